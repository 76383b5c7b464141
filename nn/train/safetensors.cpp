// safetensors reading (validated before any allocation) and atomic writing.
#include "safetensors.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../../core/creation.h"
#include "atomic_file.h"

namespace tinynn::nn {

namespace {

using json = nlohmann::json;
constexpr std::uint64_t kMaxHeader = 100u << 20;  // a header above 100 MiB is corrupt, not large

const char* dtype_tag(DType t) {
  switch (t) {
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
    case DType::Int64: return "I64";
    case DType::Bool: return "BOOL";
  }
  return "?";
}

bool parse_dtype(const std::string& tag, DType& out) {
  if (tag == "F32") out = DType::Float32;
  else if (tag == "F64") out = DType::Float64;
  else if (tag == "I64") out = DType::Int64;
  else if (tag == "BOOL") out = DType::Bool;
  else return false;
  return true;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw CheckpointError(fmt::format("tinynn: checkpoint '{}': {}", path, what));
}

}  // namespace

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<Tensor> host;
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__") fail(path, "'__metadata__' cannot name a tensor");
    Tensor h = t.detach().to(Device::cpu()).contiguous();
    const std::uint64_t bytes = static_cast<std::uint64_t>(h.numel()) * dtype_size(h.dtype());
    header[name] = {{"dtype", dtype_tag(h.dtype())}, {"shape", h.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    host.push_back(h);
  }
  std::string text = header.dump(-1, ' ', false, json::error_handler_t::replace);
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned
  const std::uint64_t header_size = text.size();

  // A failed save leaves the previous file whole (and the message says why: a full disk, ...).
  std::vector<std::pair<const void*, std::size_t>> pieces;
  unsigned char size_le[8];
  for (int i = 0; i < 8; ++i) size_le[i] = static_cast<unsigned char>(header_size >> (8 * i));
  pieces.emplace_back(size_le, 8);
  pieces.emplace_back(text.data(), text.size());
  for (const Tensor& h : host) pieces.emplace_back(h.raw_data(), static_cast<std::size_t>(h.numel()) * dtype_size(h.dtype()));
  write_file_atomically(path, pieces);
}

SafetensorsFile load_safetensors(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    fail(path, "is a directory, not a checkpoint file (checkpoints are .safetensors files, e.g. RUN_DIR/last.safetensors)");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  if (file_size < 8) fail(path, fmt::format("file is {} bytes, too short for a safetensors header", file_size));
  unsigned char size_le[8];
  in.read(reinterpret_cast<char*>(size_le), 8);
  std::uint64_t header_size = 0;
  for (int i = 0; i < 8; ++i) header_size |= static_cast<std::uint64_t>(size_le[i]) << (8 * i);
  if (header_size > kMaxHeader || header_size > file_size - 8)
    fail(path, fmt::format("header size {} does not fit in a file of {} bytes (truncated or not safetensors)", header_size,
                           file_size));
  std::string text(header_size, '\0');
  in.read(text.data(), static_cast<std::streamsize>(header_size));
  json header;
  try {
    header = json::parse(text);
  } catch (const json::exception& e) {
    fail(path, fmt::format("header is not valid JSON: {}", e.what()));
  }
  if (!header.is_object()) fail(path, "header is not a JSON object");
  const std::uint64_t data_start = 8 + header_size, data_size = file_size - data_start;

  SafetensorsFile out;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail(path, "__metadata__ is not an object");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) fail(path, fmt::format("metadata '{}' is not a string", k));
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    DType dtype;
    if (!entry.is_object() || !entry.contains("dtype") || !entry["dtype"].is_string() ||
        !parse_dtype(entry["dtype"].get<std::string>(), dtype))
      fail(path, fmt::format("tensor '{}' has a missing or unsupported dtype (supported: F32, F64, I64, BOOL)", name));
    if (!entry.contains("shape") || !entry["shape"].is_array()) fail(path, fmt::format("tensor '{}' has no shape", name));
    Shape shape;
    std::uint64_t numel = 1;
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_unsigned() || d.get<std::uint64_t>() > (1ull << 40))
        fail(path, fmt::format("tensor '{}' has an invalid shape {}", name, entry["shape"].dump(-1, ' ', false, json::error_handler_t::replace)));
      const auto size = d.get<std::uint64_t>();
      // Checked before multiplying, so a hostile header cannot overflow the element count.
      if (size != 0 && numel > (1ull << 40) / size) fail(path, fmt::format("tensor '{}' has an impossibly large shape", name));
      shape.push_back(static_cast<std::int64_t>(size));
      numel *= size;
    }
    const auto& offsets = entry.value("data_offsets", json());
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
      fail(path, fmt::format("tensor '{}' has invalid data_offsets", name));
    const auto begin = offsets[0].get<std::uint64_t>(), end = offsets[1].get<std::uint64_t>();
    if (begin > end || end > data_size)
      fail(path, fmt::format("tensor '{}' spans bytes [{}, {}) outside the {} data bytes (truncated file?)", name, begin,
                             end, data_size));
    if (end - begin != numel * dtype_size(dtype))
      fail(path, fmt::format("tensor '{}' has {} bytes but shape {} of {} needs {}", name, end - begin, shape_str(shape),
                             dtype_name(dtype), numel * dtype_size(dtype)));
    Tensor t = empty(shape, dtype);
    in.seekg(static_cast<std::streamoff>(data_start + begin));
    in.read(static_cast<char*>(t.raw_data()), static_cast<std::streamsize>(end - begin));
    if (!in) fail(path, fmt::format("could not read the data of tensor '{}'", name));
    out.tensors[name] = t;
  }
  return out;
}

}  // namespace tinynn::nn
