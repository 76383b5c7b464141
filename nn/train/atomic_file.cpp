// The one atomic file writer of the training application.
#include "atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "safetensors.h"

namespace tinynn::nn {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw CheckpointError(fmt::format("tinynn: cannot write '{}': {}", path, what));
}

void write_all(int fd, const void* data, std::size_t n, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail(path, std::strerror(errno));
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

}  // namespace

void write_file_atomically(const std::string& path, const std::vector<std::pair<const void*, std::size_t>>& pieces) {
  const std::filesystem::path target(path);
  const std::string tmp = (target.parent_path() / fmt::format(".{}.tmp", target.filename().string())).string();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, fmt::format("cannot create '{}': {}", tmp, std::strerror(errno)));
  try {
    for (const auto& [data, n] : pieces) write_all(fd, data, n, path);
    if (::fsync(fd) != 0) fail(path, fmt::format("fsync failed: {}", std::strerror(errno)));
  } catch (...) {
    ::close(fd);
    std::remove(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(tmp.c_str());
    fail(path, fmt::format("cannot rename the temporary file into place: {}", reason));
  }
  // Make the rename itself durable.
  const std::string dir = target.parent_path().empty() ? "." : target.parent_path().string();
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_file_atomically(const std::string& path, std::string_view contents) {
  write_file_atomically(path, {{contents.data(), contents.size()}});
}

void copy_file_atomically(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) fail(to, fmt::format("cannot read '{}': {}", from, std::strerror(errno)));
  std::ostringstream contents;
  contents << in.rdbuf();
  write_file_atomically(to, contents.str());
}

}  // namespace tinynn::nn
