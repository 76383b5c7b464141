// Batching, seeded shuffling and the prefetch thread.
#include "data_loader.h"

#include <fmt/format.h>

#include <algorithm>

#include "../../core/creation.h"
#include "../../core/parallel.h"
#include "../../core/shape_ops.h"

namespace tinynn::nn {

DataLoader::DataLoader(Dataset data, std::int64_t batch_size, bool shuffle, bool drop_last, std::uint64_t seed,
                       std::optional<bool> prefetch)
    : data_(std::move(data)), batch_size_(batch_size), shuffle_(shuffle), drop_last_(drop_last),
      prefetch_(prefetch.value_or(data_.inputs.device().is_cpu() && num_threads() < available_cores())), seed_(seed) {
  if (batch_size <= 0) throw ValueError(fmt::format("tinynn::nn::DataLoader: batch_size must be positive, got {}", batch_size));
  if (data_.size() == 0) throw DataError("tinynn::nn::DataLoader: the data set is empty");
}

DataLoader::~DataLoader() { stop_worker(); }

std::int64_t DataLoader::batches_per_epoch() const {
  const std::int64_t n = data_.size();
  return drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

void DataLoader::set_shard(int shard, int shards) {
  if (shards < 1 || shard < 0 || shard >= shards)
    throw ValueError(fmt::format("tinynn::nn::DataLoader::set_shard: shard {} of {} does not exist", shard, shards));
  shard_ = shard, shards_ = shards;
}

Batch DataLoader::make_batch(std::int64_t index) const {
  const std::int64_t begin = index * batch_size_;
  const std::int64_t global = std::min(begin + batch_size_, data_.size()) - begin;
  const std::int64_t base = global / shards_, extra = global % shards_;
  const std::int64_t lo = shard_ * base + std::min<std::int64_t>(shard_, extra), hi = lo + base + (shard_ < extra ? 1 : 0);
  Tensor inputs, targets;
  if (augmentation_.active()) {
    // Augmentation draws per batch: the whole batch's draws, then this shard's rows.
    const Tensor rows = order_.narrow(0, begin, global);
    inputs = augment_batch(index_select(data_.inputs, 0, rows), augmentation_, seed_, epoch_, index).narrow(0, lo, hi - lo);
    targets = index_select(data_.targets, 0, rows.narrow(0, lo, hi - lo));
  } else {
    const Tensor rows = order_.narrow(0, begin + lo, hi - lo);
    inputs = index_select(data_.inputs, 0, rows);
    targets = index_select(data_.targets, 0, rows);
  }
  return {inputs, targets, index, lo, global};
}

void DataLoader::stop_worker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  ready_.clear();
  stop_ = false;
  worker_done_ = true;
  worker_error_ = nullptr;
}

void DataLoader::start_epoch(std::int64_t epoch, std::int64_t skip) {
  stop_worker();
  epoch_ = epoch;
  // The order lives with the data, so a batch is one gather on the data's device.
  order_ = (shuffle_ ? from_vector(permutation(data_.size(), seed_, static_cast<std::uint64_t>(epoch) + 1), {data_.size()})
                     : arange(data_.size()))
               .to(data_.inputs.device());
  next_index_ = std::clamp<std::int64_t>(skip, 0, batches_per_epoch());
  if (!prefetch_) return;
  worker_done_ = false;
  worker_ = std::thread([this, first = next_index_] {
    try {
      for (std::int64_t i = first; i < batches_per_epoch(); ++i) {
        Batch b = make_batch(i);
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return stop_ || ready_.size() < 2; });
        if (stop_) return;
        ready_.push_back(std::move(b));
        changed_.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      worker_error_ = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    worker_done_ = true;
    changed_.notify_all();
  });
}

bool DataLoader::next(Batch& batch) {
  if (next_index_ >= batches_per_epoch()) return false;
  if (!prefetch_) {
    batch = make_batch(next_index_++);
    return true;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return !ready_.empty() || worker_done_; });
  if (worker_error_) std::rethrow_exception(worker_error_);
  if (ready_.empty()) return false;
  batch = std::move(ready_.front());
  ready_.pop_front();
  ++next_index_;
  changed_.notify_all();
  return true;
}

}  // namespace tinynn::nn
