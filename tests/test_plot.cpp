// curves.svg: nice axes (hand-computed ticks), ranges kept within the quantity's own, log scale
// for curves spanning decades, the learning-rate panel and the best-epoch marker.
#include <regex>

#include "test_helpers.h"

using namespace tinynn;
using tinynn::test::read_file;
using tinynn::test::scratch_dir;

namespace {

// The values of the y tick labels of panel `id` in an SVG written by write_curves_svg.
std::vector<double> y_ticks(const std::string& svg, const std::string& id) {
  const auto start = svg.find("id=\"" + id + "\"");
  REQUIRE(start != std::string::npos);
  const std::string panel = svg.substr(start, svg.find("</g>", start) - start);
  std::vector<double> ticks;
  const std::regex tick(R"(class="ytick"[^>]*>([^<]+)<)");
  for (auto it = std::sregex_iterator(panel.begin(), panel.end(), tick); it != std::sregex_iterator(); ++it)
    ticks.push_back(std::stod((*it)[1].str()));
  return ticks;
}

std::string panel_scale(const std::string& svg, const std::string& id) {
  const std::smatch m = [&] {
    std::smatch found;
    std::regex_search(svg, found, std::regex("id=\"" + id + "\" data-scale=\"([a-z]+)\""));
    return found;
  }();
  return m.empty() ? "" : m[1].str();
}

}  // namespace

TEST_CASE("linear axes have ticks at 1, 2 or 5 times a power of ten, within the quantity's range", "[plot]") {
  // The issue's loss range (ticks were 0.386, 0.5589, ... 1.077): now 0.2 apart from 0.2 to 1.2.
  nn::PlotAxis a = nn::linear_axis(0.386, 1.077, 0.0);
  CHECK(a.lo == Approx(0.2));
  CHECK(a.hi == Approx(1.2));
  REQUIRE(a.ticks.size() == 6);
  for (std::size_t i = 0; i < a.ticks.size(); ++i) CHECK(a.ticks[i] == Approx(0.2 + 0.2 * static_cast<double>(i)));
  CHECK(nn::tick_label(a.ticks[2], a) == "0.6");
  // Accuracy near 100 %: the axis stops at 100.
  a = nn::linear_axis(81.3, 99.95, 0, 100);
  CHECK(a.hi == 100);
  CHECK(a.lo == 80);
  CHECK(a.ticks == std::vector<double>{80, 85, 90, 95, 100});
  CHECK(nn::tick_label(85, a) == "85");
  // A loss close to 0 never gets an axis below 0.
  a = nn::linear_axis(0.004, 0.31, 0);
  CHECK(a.lo == 0);
  CHECK(a.ticks.front() == 0);
  CHECK(a.ticks.back() >= 0.31);
  CHECK(nn::tick_label(0.1, a) == "0.1");
  // A constant: a small range around it.
  a = nn::linear_axis(0.05, 0.05, 0);
  CHECK(a.lo < 0.05);
  CHECK(a.hi > 0.05);
  CHECK(a.ticks.size() >= 2);
}

TEST_CASE("log axes tick at powers of ten; auto_axis picks log when values span 20x", "[plot]") {
  const nn::PlotAxis a = nn::log_axis(0.004, 2.3);
  CHECK(a.log);
  CHECK(a.lo == Approx(0.001));
  CHECK(a.hi == Approx(10));
  CHECK(a.ticks.size() == 5);  // 0.001 0.01 0.1 1 10: four decades, no 2x/5x ticks
  CHECK(nn::tick_label(0.01, a) == "0.01");
  const nn::PlotAxis few = nn::log_axis(0.02, 0.9);  // two decades: 1, 2, 5 per decade
  CHECK(few.ticks == std::vector<double>{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1});
  CHECK(nn::auto_axis({2.1, 0.5, 0.09}, 0, 1e300).log);
  CHECK_FALSE(nn::auto_axis({2.1, 0.5, 0.2}, 0, 1e300).log);
  CHECK_FALSE(nn::auto_axis({0.1, 0.0}, 0, 1e300).log);  // a zero (lr annealed to 0) stays linear
}

TEST_CASE("curves.svg: loss, accuracy and learning-rate panels, nice ticks in range, best epoch marked", "[plot]") {
  const auto dir = scratch_dir("plot");
  std::vector<nn::EpochRecord> history;
  for (int e = 1; e <= 12; ++e) {
    nn::EpochRecord r;
    r.epoch = e;
    r.train_loss = 2.3 * std::pow(0.5, e);  // spans three decades: log scale
    r.val_loss = r.train_loss * 1.1;
    r.train_accuracy = std::min(0.9995, 0.5 + 0.05 * e);
    r.val_accuracy = r.train_accuracy - 0.01;
    r.lr = 0.1 * std::pow(0.8, e - 1);
    history.push_back(r);
  }
  nn::write_curves_svg(history, (dir / "c.svg").string(), "run", 7);
  const std::string svg = read_file(dir / "c.svg");
  CHECK(panel_scale(svg, "loss") == "log");
  CHECK(panel_scale(svg, "accuracy") == "linear");
  CHECK(panel_scale(svg, "lr") == "linear");  // 0.1 down to 0.0086: under 20x
  for (double t : y_ticks(svg, "accuracy")) {
    CHECK(t >= 0);
    CHECK(t <= 100);
  }
  CHECK(y_ticks(svg, "accuracy").back() == 100);
  for (double t : y_ticks(svg, "loss")) CHECK(t > 0);
  for (double t : y_ticks(svg, "lr")) CHECK(t >= 0);
  // Each axis is labelled; the best epoch is a dashed line in each of the three panels.
  CHECK(svg.find(">loss (log scale)<") != std::string::npos);
  CHECK(svg.find(">accuracy (%)<") != std::string::npos);
  CHECK(svg.find(">learning rate<") != std::string::npos);
  std::size_t best_lines = 0;
  for (auto p = svg.find("class=\"best\""); p != std::string::npos; p = svg.find("class=\"best\"", p + 1)) ++best_lines;
  CHECK(best_lines == 3);
  CHECK(svg.find("best epoch (7)") != std::string::npos);
  // Epoch ticks are whole numbers from 1 to the last epoch.
  const std::regex xtick(R"(class="xtick"[^>]*>([^<]+)<)");
  std::vector<std::string> epochs;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), xtick); it != std::sregex_iterator(); ++it) epochs.push_back((*it)[1]);
  CHECK(std::vector<std::string>(epochs.begin(), epochs.begin() + 3) == std::vector<std::string>{"1", "5", "10"});

  // A regression run has no accuracy panel; a loss within one decade is linear and starts at 0.
  for (auto& r : history) r.train_accuracy = r.val_accuracy = NAN, r.train_loss = 0.3 + 0.01 * static_cast<double>(r.epoch), r.val_loss = NAN;
  nn::write_curves_svg(history, (dir / "r.svg").string(), "regression");
  const std::string reg = read_file(dir / "r.svg");
  CHECK(reg.find("id=\"accuracy\"") == std::string::npos);
  CHECK(panel_scale(reg, "loss") == "linear");
  CHECK(reg.find("class=\"best\"") == std::string::npos);
  for (double t : y_ticks(reg, "loss")) CHECK(t >= 0);
}
