// Files a run writes (checkpoints, metrics, plots, config.json) are the old or the new version,
// never half written: a temporary ".NAME.tmp" beside the target is written and fsynced, renamed
// over it, and the directory fsynced. Errors are CheckpointErrors naming the target and the cause.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tinynn::nn {

// The pieces, in order, make the file's contents.
void write_file_atomically(const std::string& path, const std::vector<std::pair<const void*, std::size_t>>& pieces);
void write_file_atomically(const std::string& path, std::string_view contents);
// `to` becomes a copy of `from`, atomically.
void copy_file_atomically(const std::string& from, const std::string& to);

}  // namespace tinynn::nn
