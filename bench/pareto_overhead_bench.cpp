// The engine's own overhead, side by side with pagmo2 on the same inputs in the same run:
// non-dominated sorting + crowding distance of random 3-objective sets (1,000 and 5,000
// points) and exact 3-D hypervolume. Usage: pareto_overhead_bench [REPEATS]
#include <pagmo/utils/hypervolume.hpp>
#include <pagmo/utils/multi_objective.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <vector>

#include "search/pareto.h"

using paretonas::search::Point;

namespace {

double MedianMs(int repeats, const std::function<void()>& f) {
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 7;
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0, 1);
  std::printf("| what | points | paretonas (median ms) | pagmo 2.18 (median ms) | ratio |\n|---|---|---|---|---|\n");
  for (int n : {1000, 5000}) {
    std::vector<Point> pts(n, Point(3));
    for (auto& p : pts)
      for (auto& v : p) v = u(rng);
    std::size_t sink = 0;
    const double ours = MedianMs(repeats, [&] {
      const auto fronts = paretonas::search::NonDominatedSort(pts);
      for (const auto& f : fronts) sink += paretonas::search::CrowdingDistance(pts, f).size();
    });
    const double theirs = MedianMs(repeats, [&] {
      const auto nds = pagmo::fast_non_dominated_sorting(pts);
      for (const auto& f : std::get<0>(nds)) {
        if (f.size() < 2) continue;  // pagmo's crowding_distance needs 2+ points
        std::vector<pagmo::vector_double> front;
        for (auto i : f) front.push_back(pts[i]);
        sink += pagmo::crowding_distance(front).size();
      }
    });
    std::printf("| sort + crowding, 3 objectives, uniform random | %d | %.2f | %.2f | %.3f |\n", n, ours,
                theirs, ours / theirs);
    (void)sink;
  }
  for (int n : {100, 1000}) {
    // Points on a sphere octant: all mutually non-dominated, the hard case for hypervolume.
    std::vector<Point> pts;
    std::normal_distribution<double> g(0, 1);
    while (static_cast<int>(pts.size()) < n) {
      Point p{std::abs(g(rng)), std::abs(g(rng)), std::abs(g(rng))};
      const double r = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
      for (auto& v : p) v /= r;
      pts.push_back(p);
    }
    const Point ref{1.1, 1.1, 1.1};
    double a = 0, b = 0;
    const double ours = MedianMs(repeats, [&] { a = paretonas::search::Hypervolume(pts, ref); });
    const double theirs = MedianMs(repeats, [&] { b = pagmo::hypervolume(pts, false).compute(ref); });
    std::printf("| exact hypervolume, 3 objectives, non-dominated (values %.9f vs %.9f) | %d | %.2f | %.2f | %.3f |\n",
                a, b, n, ours, theirs, ours / theirs);
  }
  return 0;
}
