// Training curves as SVG (curves.svg in a run directory): loss, accuracy and learning rate per
// epoch, with "nice" axes (ticks at 1, 2 or 5 times a power of ten, never beyond what the quantity
// can take: no accuracy above 100 %, no loss below 0), a log scale where a curve spans decades,
// and a marker at the best epoch.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tinynn::nn {

struct EpochRecord;

// An axis' range and tick values. `log`: ticks and positions are on a log10 scale.
struct PlotAxis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
  bool log = false;
};

// Linear: about `target` ticks, at multiples of 1, 2 or 5 times a power of ten; the range is the
// data's [lo, hi] widened to the ticks around it and clipped to [floor, ceil].
PlotAxis linear_axis(double lo, double hi, double floor = -1e300, double ceil = 1e300, int target = 5);
// Log10 over positive [lo, hi]: ticks at powers of ten (and 2 and 5 times them over few decades).
PlotAxis log_axis(double lo, double hi);
// Log when the positive values span at least 20x, else linear with `floor`.
PlotAxis auto_axis(const std::vector<double>& values, double floor, double ceil);
// A tick's text: as many decimals as the step between ticks needs ("0.05", "2", "1e-05").
std::string tick_label(double value, const PlotAxis& axis);

// `best_epoch` (0: none) is marked by a dashed line in every panel.
void write_curves_svg(const std::vector<EpochRecord>& history, const std::string& path, const std::string& title,
                      std::int64_t best_epoch = 0);

}  // namespace tinynn::nn
