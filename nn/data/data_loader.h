// DataLoader: batches of a Dataset in a seeded order, with the next batch assembled on a
// background thread while the current one trains.
#pragma once
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "augment.h"
#include "dataset.h"

namespace tinynn::nn {

struct Batch {
  Tensor inputs, targets;
  std::int64_t index = 0;  // within the epoch
  // This process's rows of the batch (all of them unless the loader is sharded).
  std::int64_t offset = 0, global_size = 0;
};

class DataLoader {
 public:
  // The order of epoch e is permutation(size, seed, e) when shuffling, so a run resumed at
  // (epoch, batch) sees exactly the batches an uninterrupted run would. `prefetch`: assemble the
  // next batch on a background thread. By default only when the data is on the CPU and the
  // OpenMP pool leaves a core free: a thread competing for the pool's cores stalls its parallel
  // loops (the default MLP's epoch took 0.33 s with it, 0.23 s without, on 2 cores), and data
  // on a GPU is gathered there, on the device's one stream.
  DataLoader(Dataset data, std::int64_t batch_size, bool shuffle, bool drop_last, std::uint64_t seed,
             std::optional<bool> prefetch = std::nullopt);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  std::int64_t batches_per_epoch() const;
  std::int64_t batch_size() const { return batch_size_; }
  const Dataset& dataset() const { return data_; }
  // Starts epoch `epoch`, skipping its first `skip` batches.
  void start_epoch(std::int64_t epoch, std::int64_t skip = 0);
  // The next batch of the epoch; false when the epoch is over.
  bool next(Batch& batch);
  // Augments every batch's inputs from now on (see augment.h); the data must be images on the CPU.
  void set_augmentation(const Augmentation& augmentation) { augmentation_ = augmentation; }
  // Data-parallel: each batch (the global batch, of batch_size rows) yields only part `shard` of
  // `shards`: consecutive rows, g / shards of a batch of g rows, one more for the first g % shards
  // shards (so shard 0 is never empty). The order and the augmentation are the whole batch's,
  // so the parts of all shards make the unsharded batch.
  void set_shard(int shard, int shards);

 private:
  Batch make_batch(std::int64_t index) const;
  void stop_worker();

  Dataset data_;
  std::int64_t batch_size_;
  bool shuffle_, drop_last_, prefetch_;
  std::uint64_t seed_;
  int shard_ = 0, shards_ = 1;
  Tensor order_;  // int64 [N], this epoch's sample order; each batch indexes a narrow view of it
  std::int64_t next_index_ = 0, epoch_ = 0;
  Augmentation augmentation_;

  // Background assembly: the worker fills `ready_` (at most two batches ahead).
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> ready_;
  std::exception_ptr worker_error_;
  bool stop_ = false, worker_done_ = true;
};

}  // namespace tinynn::nn
