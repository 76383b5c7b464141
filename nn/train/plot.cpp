// Training curves as a small hand-written SVG: one panel for loss, one for accuracy, each with
// train and validation lines, axes with ticks, and a legend.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "atomic_file.h"
#include "trainer.h"

namespace tinynn::nn {

namespace {

struct Series {
  std::string name, color;
  std::vector<std::pair<double, double>> points;
};

// `legend_low`: put the legend in the bottom corner (for curves that rise, like accuracy).
void panel(std::ostringstream& svg, double left, const std::string& title, const std::vector<Series>& series,
           double x_max, bool legend_low) {
  const double top = 50, width = 380, height = 260;
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& s : series)
    for (const auto& [x, y] : s.points) lo = std::min(lo, y), hi = std::max(hi, y);
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-12) hi = lo + 1;
  const double pad = (hi - lo) * 0.05;
  lo -= pad, hi += pad;
  auto px = [&](double x) { return left + (x_max <= 1 ? width / 2 : (x - 1) / (x_max - 1) * width); };
  auto py = [&](double y) { return top + height - (y - lo) / (hi - lo) * height; };
  svg << fmt::format(R"(<text x="{}" y="{}" font-size="15" text-anchor="middle">{}</text>)", left + width / 2, top - 14, title)
      << "\n";
  svg << fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#444"/>)", left, top, width, height)
      << "\n";
  for (int t = 0; t <= 4; ++t) {
    const double v = lo + (hi - lo) * t / 4.0;
    svg << fmt::format(R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#ddd"/>)", left, py(v), left + width, py(v))
        << fmt::format(R"(<text x="{}" y="{:.1f}" font-size="11" text-anchor="end">{:.4g}</text>)", left - 6, py(v) + 4, v)
        << "\n";
  }
  const int ticks = static_cast<int>(std::min(x_max, 10.0));
  for (int t = 0; t < ticks; ++t) {
    const double e = ticks <= 1 ? 1 : 1 + std::round((x_max - 1) * t / (ticks - 1));
    svg << fmt::format(R"(<text x="{:.1f}" y="{}" font-size="11" text-anchor="middle">{}</text>)", px(e), top + height + 16, e)
        << "\n";
  }
  svg << fmt::format(R"(<text x="{}" y="{}" font-size="12" text-anchor="middle">epoch</text>)", left + width / 2,
                     top + height + 34)
      << "\n";
  int legend = 0;
  for (const auto& s : series) {
    if (s.points.empty()) continue;
    std::string pts;
    for (const auto& [x, y] : s.points) pts += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
    svg << fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>)", pts, s.color) << "\n";
    for (const auto& [x, y] : s.points)
      svg << fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}"/>)", px(x), py(y), s.color);
    const double legend_y = legend_low ? top + height - 30 + 16 * legend : top + 18 + 16 * legend;
    ++legend;
    svg << fmt::format(R"(<text x="{}" y="{}" font-size="12" fill="{}">&#9644; {}</text>)", left + width - 110, legend_y,
                       s.color, s.name)
        << "\n";
  }
}

}  // namespace

void write_curves_svg(const std::vector<EpochRecord>& history, const std::string& path, const std::string& title) {
  std::vector<Series> loss{{"train", "#1f77b4", {}}, {"validation", "#d62728", {}}};
  std::vector<Series> acc{{"train", "#1f77b4", {}}, {"validation", "#d62728", {}}};
  double x_max = 1;
  for (const auto& r : history) {
    const auto e = static_cast<double>(r.epoch);
    x_max = std::max(x_max, e);
    if (std::isfinite(r.train_loss)) loss[0].points.emplace_back(e, r.train_loss);
    if (std::isfinite(r.val_loss)) loss[1].points.emplace_back(e, r.val_loss);
    if (std::isfinite(r.train_accuracy)) acc[0].points.emplace_back(e, 100 * r.train_accuracy);
    if (std::isfinite(r.val_accuracy)) acc[1].points.emplace_back(e, 100 * r.val_accuracy);
  }
  const bool has_accuracy = !acc[0].points.empty();
  std::ostringstream svg;
  const int width = has_accuracy ? 900 : 460;
  svg << fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="360" font-family="sans-serif">)", width)
      << "\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << fmt::format(R"(<text x="{}" y="18" font-size="14" text-anchor="middle" fill="#333">{}</text>)", width / 2, title) << "\n";
  panel(svg, 60, "loss", loss, x_max, false);
  if (has_accuracy) panel(svg, 500, "accuracy (%)", acc, x_max, true);
  svg << "</svg>\n";
  write_file_atomically(path, svg.str());
}

}  // namespace tinynn::nn
