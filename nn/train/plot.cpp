// curves.svg: up to three panels side by side (loss; accuracy for classification; learning rate),
// each with its axes, gridlines at the ticks, train and validation lines, and the best epoch
// marked. Written by hand: a plotting library would be the largest dependency for the smallest job.
#include "plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "atomic_file.h"
#include "trainer.h"

namespace tinynn::nn {

namespace {

// 1, 2 or 5 times a power of ten, the smallest at least `raw`.
double nice_step(double raw) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double f : {1.0, 2.0, 5.0, 10.0})
    if (f * magnitude >= raw * (1 - 1e-9)) return f * magnitude;
  return 10 * magnitude;
}

}  // namespace

PlotAxis linear_axis(double lo, double hi, double floor, double ceil, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {  // a constant: a small range around it
    const double half = lo != 0 ? std::abs(lo) * 0.1 : 0.5;
    lo -= half, hi += half;
  }
  lo = std::max(lo, floor), hi = std::min(hi, ceil);
  const double step = nice_step((hi - lo) / std::max(target - 1, 1));
  PlotAxis a;
  a.lo = std::max(floor, std::floor(lo / step + 1e-9) * step);
  a.hi = std::min(ceil, std::ceil(hi / step - 1e-9) * step);
  for (double k = std::ceil(a.lo / step - 1e-9); k * step <= a.hi + step * 1e-9; ++k)
    a.ticks.push_back(std::abs(k) < 1e-9 ? 0.0 : k * step);
  return a;
}

PlotAxis log_axis(double lo, double hi) {
  PlotAxis a;
  a.log = true;
  const double first = std::floor(std::log10(lo) + 1e-9), last = std::ceil(std::log10(hi) - 1e-9);
  a.lo = std::pow(10.0, first), a.hi = std::pow(10.0, std::max(last, first + 1));
  const bool few_decades = last - first <= 2;
  for (double d = first; d <= std::log10(a.hi) + 1e-9; ++d)
    for (double f : few_decades ? std::vector<double>{1, 2, 5} : std::vector<double>{1})
      if (const double v = f * std::pow(10.0, d); v <= a.hi * (1 + 1e-9)) a.ticks.push_back(v);
  return a;
}

PlotAxis auto_axis(const std::vector<double>& values, double floor, double ceil) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (lo > 0 && hi / lo >= 20) return log_axis(lo, hi);
  return linear_axis(lo, hi, floor, ceil);
}

std::string tick_label(double value, const PlotAxis& axis) {
  if (axis.log) return fmt::format("{:g}", value);
  const double step = axis.ticks.size() > 1 ? axis.ticks[1] - axis.ticks[0] : 1.0;
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  return decimals > 6 ? fmt::format("{:.1e}", value) : fmt::format("{:.{}f}", value, decimals);
}

namespace {

struct Series {
  std::string name, color;
  std::vector<std::pair<double, double>> points;  // (epoch, value)
};

struct PanelSpec {
  std::string id, label;  // label: the y axis' title
  std::vector<Series> series;
  double floor = 0, ceil = 1e300;  // the quantity's own range
};

constexpr double kTop = 58, kWidth = 330, kHeight = 240, kPanelStride = 430, kLeft = 80;

void draw_panel(std::ostringstream& svg, double left, const PanelSpec& p, const PlotAxis& x, std::int64_t best_epoch) {
  std::vector<double> values;
  for (const auto& s : p.series)
    for (const auto& pt : s.points) values.push_back(pt.second);
  const PlotAxis y = auto_axis(values, p.floor, p.ceil);
  auto px = [&](double e) { return left + (e - x.lo) / (x.hi - x.lo) * kWidth; };
  auto py = [&](double v) {
    const double t = y.log ? (std::log10(v) - std::log10(y.lo)) / (std::log10(y.hi) - std::log10(y.lo)) : (v - y.lo) / (y.hi - y.lo);
    return kTop + kHeight - t * kHeight;
  };
  svg << fmt::format(R"(<g class="panel" id="{}" data-scale="{}">)", p.id, y.log ? "log" : "linear") << "\n";
  for (double t : y.ticks)
    svg << fmt::format(R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#e4e4e4"/>)", left, py(t), left + kWidth, py(t))
        << fmt::format(R"(<text class="ytick" x="{}" y="{:.1f}" font-size="11" text-anchor="end">{}</text>)", left - 6,
                       py(t) + 4, tick_label(t, y))
        << "\n";
  for (double t : x.ticks)
    svg << fmt::format(R"(<text class="xtick" x="{:.1f}" y="{}" font-size="11" text-anchor="middle">{}</text>)", px(t),
                       kTop + kHeight + 16, tick_label(t, x))
        << "\n";
  svg << fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#444"/>)", left, kTop, kWidth, kHeight)
      << "\n";
  svg << fmt::format(R"(<text x="{}" y="{}" font-size="12" text-anchor="middle">epoch</text>)", left + kWidth / 2,
                     kTop + kHeight + 34)
      << "\n";
  const double label_x = left - 52, label_y = kTop + kHeight / 2;
  svg << fmt::format(R"svg(<text class="ylabel" x="{}" y="{}" font-size="12" text-anchor="middle" transform="rotate(-90 {} {})">{}{}</text>)svg",
                     label_x, label_y, label_x, label_y, p.label, y.log ? " (log scale)" : "")
      << "\n";
  if (best_epoch > 0)
    svg << fmt::format(R"(<line class="best" x1="{:.1f}" y1="{}" x2="{:.1f}" y2="{}" stroke="#2ca02c" stroke-dasharray="5,4"/>)",
                       px(static_cast<double>(best_epoch)), kTop, px(static_cast<double>(best_epoch)), kTop + kHeight)
        << "\n";
  for (const auto& s : p.series) {
    if (s.points.empty()) continue;
    std::string pts;
    for (const auto& [e, v] : s.points) pts += fmt::format("{:.1f},{:.1f} ", px(e), py(v));
    svg << fmt::format(R"(<polyline class="series" data-name="{}" points="{}" fill="none" stroke="{}" stroke-width="2"/>)", s.name,
                       pts, s.color)
        << "\n";
    if (s.points.size() <= 60)
      for (const auto& [e, v] : s.points)
        svg << fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}"/>)", px(e), py(v), s.color);
    svg << "\n";
  }
  svg << "</g>\n";
}

}  // namespace

void write_curves_svg(const std::vector<EpochRecord>& history, const std::string& path, const std::string& title,
                      std::int64_t best_epoch) {
  const std::string train = "#1f77b4", validation = "#d62728";
  PanelSpec loss{"loss", "loss", {{"train", train, {}}, {"validation", validation, {}}}};
  PanelSpec acc{"accuracy", "accuracy (%)", {{"train", train, {}}, {"validation", validation, {}}}, 0, 100};
  PanelSpec lr{"lr", "learning rate", {{"learning rate", "#555", {}}}};
  double last_epoch = 1;
  for (const auto& r : history) {
    const auto e = static_cast<double>(r.epoch);
    last_epoch = std::max(last_epoch, e);
    auto add = [e](Series& s, double v, double scale = 1) {
      if (std::isfinite(v)) s.points.emplace_back(e, v * scale);
    };
    add(loss.series[0], r.train_loss), add(loss.series[1], r.val_loss);
    add(acc.series[0], r.train_accuracy, 100), add(acc.series[1], r.val_accuracy, 100);
    add(lr.series[0], r.lr);
  }
  std::vector<const PanelSpec*> panels{&loss};
  if (!acc.series[0].points.empty()) panels.push_back(&acc);
  panels.push_back(&lr);
  // Epochs: whole-number ticks from 1; one epoch sits in the middle of [0, 2].
  PlotAxis x = last_epoch > 1 ? linear_axis(1, last_epoch, 0) : linear_axis(0, 2, 0);
  x.ticks.erase(std::remove_if(x.ticks.begin(), x.ticks.end(),
                               [last_epoch](double t) { return t < 1 || t > last_epoch || t != std::floor(t); }),
                x.ticks.end());
  if (last_epoch > 1) x.lo = 1, x.hi = last_epoch;
  if (x.ticks.empty() || x.ticks.front() > 1) x.ticks.insert(x.ticks.begin(), 1);

  const double width = kPanelStride * static_cast<double>(panels.size()) + 10;
  std::ostringstream svg;
  svg << fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif">)", width,
                     kTop + kHeight + 50)
      << "\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << fmt::format(R"(<text x="{}" y="20" font-size="15" text-anchor="middle" fill="#222">{}</text>)", width / 2, title) << "\n";
  // One legend for every panel, above them, so it never covers a curve.
  double lx = kLeft;
  auto legend = [&](const std::string& color, const std::string& text, bool dashed) {
    svg << fmt::format(R"(<line x1="{}" y1="38" x2="{}" y2="38" stroke="{}" stroke-width="2"{}/>)", lx, lx + 22, color,
                       dashed ? R"( stroke-dasharray="5,4")" : "")
        << fmt::format(R"(<text x="{}" y="42" font-size="12" fill="#222">{}</text>)", lx + 28, text) << "\n";
    lx += 40 + 7.0 * static_cast<double>(text.size());
  };
  legend(train, "train", false);
  if (!loss.series[1].points.empty()) legend(validation, "validation", false);
  if (best_epoch > 0) legend("#2ca02c", fmt::format("best epoch ({})", best_epoch), true);
  for (std::size_t i = 0; i < panels.size(); ++i)
    draw_panel(svg, kLeft + kPanelStride * static_cast<double>(i), *panels[i], x, best_epoch);
  svg << "</svg>\n";
  write_file_atomically(path, svg.str());
}

}  // namespace tinynn::nn
