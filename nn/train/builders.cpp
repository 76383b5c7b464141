// Config -> data, model, loss, optimizer, scheduler.
#include "builders.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "../../autograd/autograd.h"
#include "../../core/creation.h"
#include "../normalization.h"
#include "detail/config_document.h"

namespace tinynn::nn {

DataSplits load_data(Config& c) {
  const DataSpec& d = c.data;
  DataSplits s;
  if (d.type == "idx") {
    s = load_idx_directory(d.dir, d.max_train, d.max_test);
  } else if (d.type == "image_folder") {
    std::optional<std::pair<int, int>> size;
    if (!d.image_size.empty()) size = std::make_pair(static_cast<int>(d.image_size[0]), static_cast<int>(d.image_size[1]));
    s = load_image_folders(d.dir, static_cast<int>(d.channels), size);
  } else if (d.type == "csv") {
    const bool cls = d.task == "classification";
    s.train = load_csv(d.train_path, d.header, static_cast<int>(d.label_column), cls);
    s.test = load_csv(d.test_path, d.header, static_cast<int>(d.label_column), cls);
    s.train.num_classes = s.test.num_classes = std::max(s.train.num_classes, s.test.num_classes);
  } else {
    s.train = make_synthetic(d.synthetic, d.samples, d.noise, c.training.seed);
    s.test = make_synthetic(d.synthetic, d.test_samples, d.noise, c.training.seed + 1);
  }
  if (d.max_train > 0 && s.train.size() > d.max_train) s.train = s.train.subset(arange(d.max_train));
  if (d.max_test > 0 && s.test.size() > d.max_test) s.test = s.test.subset(arange(d.max_test));
  if (!d.class_names.empty()) {
    if (static_cast<std::int64_t>(d.class_names.size()) < s.train.num_classes)
      throw ConfigError(fmt::format("config: data.class_names: {} names for {} classes", d.class_names.size(), s.train.num_classes));
    s.train.class_names = s.test.class_names = d.class_names;
  }
  if (d.scale) scale_inputs(s, 1.0 / 255.0);
  split_validation(s, d.validation_split, c.training.seed);
  if (d.normalize) {
    auto [mean, std] = input_mean_std(s.train);
    if (d.mean) mean = *d.mean;
    if (d.std) std = *d.std;
    normalize_inputs(s, mean, std);
    c.data.mean = mean, c.data.std = std;
    c.resolved.impl().json["data"]["mean"] = mean;
    c.resolved.impl().json["data"]["std"] = std;
  }
  c.data.class_names = s.train.class_names;
  c.resolved.impl().json["data"]["class_names"] = s.train.class_names;
  return s;
}

void check_training_config(const Config& c, const Shape& sample_shape) {
  const DataSpec& d = c.data;
  // Keys of one data type set on another would be silently ignored (a resolved config holds every
  // key at its default, so only values away from it count).
  if (d.type != "image_folder" && d.channels != 1)
    throw ConfigError("config: data.channels: applies to image_folder data only (idx images are grayscale), not " + d.type);
  if (d.type != "image_folder" && !d.image_size.empty())
    throw ConfigError("config: data.image_size: applies to image_folder data only (idx images keep their size), not " + d.type);
  // Under half a side, every crop keeps more than half of each side of the image; beyond, some
  // crops would hold padding only.
  if (d.crop_padding > 0 && sample_shape.size() == 3 && 2 * d.crop_padding >= std::min(sample_shape[1], sample_shape[2]))
    throw ConfigError(fmt::format("config: data.augment.crop_padding: {} pixels on each side of {}x{} images: at most {} "
                                  "(under half a side; it is the padding, not the crop size: 2-4 is usual at 28x28)",
                                  d.crop_padding, sample_shape[1], sample_shape[2],
                                  (std::min(sample_shape[1], sample_shape[2]) - 1) / 2));
}

std::shared_ptr<Sequential> build_model(const Config& c, const Shape& sample_shape, std::int64_t outputs, Generator* gen,
                                        std::vector<std::size_t>* layer_ends, bool trained) {
  auto model = std::make_shared<Sequential>();
  Shape shape = sample_shape;
  for (std::size_t i = 0; i < c.layers.size(); ++i) {
    const bool last_dense = std::none_of(c.layers.begin() + static_cast<long>(i) + 1, c.layers.end(),
                                         [](const TypedSpec& l) { return find_layer_type(l.type)->dense; });
    LayerBuild b{*model, shape, outputs, last_dense, gen, trained};
    try {
      find_layer_type(c.layers[i].type)->build(c.layers[i], b);
    } catch (const OutOfMemoryError& e) {  // a typo in units or channels, more often than a small machine
      throw ConfigError(fmt::format("config: {}: {} needs more memory than there is ({}); is a units or channels "
                                    "value mistyped?", c.layers[i].path, c.layers[i].type, e.what()));
    }
    if (layer_ends) layer_ends->push_back(model->size());
  }
  if (shape.size() != 1 || shape[0] != outputs)
    throw ConfigError(fmt::format("config: model.layers: the model ends with shape {} but the data needs {} outputs; end "
                                  "with a linear layer", shape_str(shape), outputs));
  return model;
}

namespace {

// One zero sample through the model in eval mode, with no graph: visit(layer, module, input) before
// each module of config layer `layer`, then done(layer, output) after the layer's last. The
// model's mode is restored, also when a visit throws.
template <class Visit, class Done>
void walk_layers(Sequential& model, const Shape& sample_shape, const std::vector<std::size_t>& ends, const Visit& visit,
                 const Done& done) {
  NoGradGuard no_grad;
  struct Restore {
    Sequential& model;
    bool training;
    ~Restore() { model.train(training); }
  } restore{model, model.is_training()};
  model.eval();
  Shape batch_shape{1};
  batch_shape.insert(batch_shape.end(), sample_shape.begin(), sample_shape.end());
  Tensor x = zeros(batch_shape, {DType::Float32, model.parameters().empty() ? Device::cpu() : model.parameters()[0].device()});
  std::size_t module = 0;
  for (std::size_t i = 0; i < ends.size(); ++i) {
    for (; module < ends[i]; ++module) {
      visit(i, *model[module], x);
      x = model[module]->forward(x);
    }
    done(i, x);
  }
}

}  // namespace

std::string model_summary(const Config& c, Sequential& model, const Shape& sample_shape,
                          const std::vector<std::size_t>& ends) {
  if (ends.size() != c.layers.size() || ends.empty() || ends.back() != model.size())
    throw ValueError("tinynn::nn::model_summary: the model was not built from this config");
  // One row a config layer; each column as wide as its widest cell (long settings, deep paths).
  std::vector<std::array<std::string, 5>> rows = {{"layer", "type", "settings", "output shape", "parameters"}};
  std::int64_t params = 0;
  walk_layers(
      model, sample_shape, ends, [&](std::size_t, const Module& m, const Tensor&) { params += m.parameter_count(); },
      [&](std::size_t i, const Tensor& x) {
        const TypedSpec& l = c.layers[i];
        std::string settings;
        for (const KeySpec& k : find_layer_type(l.type)->keys) {
          const KeyValue& value = l.values.all().at(k.name);
          if (value == k.fallback) continue;
          // A window size written once when square, as configs usually write it ("padding=1").
          const auto* pair = std::get_if<std::vector<std::int64_t>>(&value);
          const std::string text =
              k.pair && pair && (*pair)[0] == (*pair)[1] ? std::to_string((*pair)[0]) : key_value_text(value, false);
          settings += fmt::format("{}{}={}", settings.empty() ? "" : " ", k.name, text);
        }
        const Shape sample(x.shape().begin() + 1, x.shape().end());
        rows.push_back({l.path, l.type, settings, shape_str(sample), std::to_string(params)});
        params = 0;
      });
  std::array<std::size_t, 5> width = {18, 12, 28, 14, 12};  // at least these: the usual configs line up as before
  for (const auto& row : rows)
    for (std::size_t k = 0; k < row.size(); ++k) width[k] = std::max(width[k], row[k].size());
  std::string out;
  for (const auto& r : rows)
    out += fmt::format("{:<{}} {:<{}} {:<{}} {:<{}} {:>{}}\n", r[0], width[0], r[1], width[1], r[2], width[2], r[3], width[3],
                       r[4], width[4]);
  out += fmt::format("total parameters: {}\n", model.parameter_count());
  return out;
}

void check_batch_norm_batches(const Config& c, Sequential& model, const Shape& sample_shape,
                               const std::vector<std::size_t>& ends, std::int64_t train_size, int world) {
  const std::int64_t batch = c.training.batch_size, rest = train_size % batch;
  // The batches' sizes: full ones, and a last partial one unless dropped. A rank takes g / world
  // rows of a batch of g, or one more: some rank holds a single row when 0 < g < 2 world.
  std::vector<std::int64_t> sizes;
  if (train_size >= batch) sizes.push_back(batch);
  if (rest > 0 && !c.training.drop_last) sizes.push_back(rest);
  std::int64_t lone = 0;  // a batch size that leaves some rank one row
  for (const std::int64_t g : sizes)
    if (g < 2 * static_cast<std::int64_t>(world)) lone = g;
  if (lone == 0 || ends.size() != c.layers.size()) return;
  walk_layers(
      model, sample_shape, ends,
      [&](std::size_t i, const Module& m, const Tensor& x) {
        // A batch norm's statistics in training are over the batch and, for images, the positions:
        // one value per channel has no variance (PyTorch refuses it too).
        if (dynamic_cast<const BatchNorm*>(&m) == nullptr || x.dim() < 2 || x.numel() != x.shape()[1]) return;
        const TypedSpec& l = c.layers[i];
        const bool last = lone != batch;
        const std::string which = last ? "the last training batch" : "every training batch";
        throw ConfigError(fmt::format(
            "config: {}: {} in training needs more than one value per channel, but {} ({} samples, training.batch_size "
            "{}): {}", l.path, l.type,
            world > 1 ? fmt::format("{} ({}) leaves a rank of {} one sample", which, lone, world) : which + " holds one sample",
            train_size, batch,
            last && train_size > batch ? "set training.drop_last: true, or another training.batch_size"
                                       : "use a larger training.batch_size (or more data)"));
      },
      [](std::size_t, const Tensor&) {});
}

std::string check_run(Config& c) {
  resolve_device(c.training.device);
  const DataSplits data = load_data(c);
  const bool classification = data.train.is_classification();
  const std::int64_t outputs = classification ? data.train.num_classes : data.train.targets.shape()[1];
  Generator gen(c.training.seed);
  std::vector<std::size_t> layer_ends;
  auto model = build_model(c, data.train.sample_shape(), outputs, &gen, &layer_ends);
  make_loss(c, data.train);
  auto optimizer = make_optimizer(c, *model);
  make_scheduler(c, *optimizer);
  check_training_config(c, data.train.sample_shape());
  check_batch_norm_batches(c, *model, data.train.sample_shape(), layer_ends, data.train.size());
  return model_summary(c, *model, data.train.sample_shape(), layer_ends);
}

LossFn make_loss(const Config& c, const Dataset& train) {
  return find_loss_type(c.loss.type)->build(c.loss.values, c, train);
}

std::unique_ptr<Optimizer> make_optimizer(const Config& c, Module& model) {
  return find_optimizer_type(c.optimizer.type)->build(c.optimizer.values, model.parameters());
}

std::unique_ptr<Scheduler> make_scheduler(const Config& c, Optimizer& opt) {
  const SchedulerType& row = *find_scheduler_type(c.scheduler.type);
  std::unique_ptr<Scheduler> schedule = row.build(c.scheduler.values, opt, c);
  if (!row.closed_form || c.scheduler.values.integer("warmup_epochs") == 0) return schedule;
  // Closed-form rows build closed-form schedules (or none), which the warmup wraps.
  std::unique_ptr<ClosedFormScheduler> then(static_cast<ClosedFormScheduler*>(schedule.release()));
  return std::make_unique<LinearWarmup>(opt, c.scheduler.values.integer("warmup_epochs"),
                                        c.scheduler.values.number("warmup_start_factor"), std::move(then));
}

}  // namespace tinynn::nn
