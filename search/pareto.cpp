#include "search/pareto.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

namespace paretonas::search {

double EpsilonToFront(const Point& p, const std::vector<Point>& front) {
  double worst = -std::numeric_limits<double>::infinity();
  for (const Point& f : front) {
    double need = std::numeric_limits<double>::infinity();  // smallest shift that escapes f
    for (size_t j = 0; j < p.size(); ++j) need = std::min(need, p[j] - f[j]);
    worst = std::max(worst, need);
  }
  return front.empty() ? 0.0 : worst;
}

bool Dominates(const Point& a, const Point& b) {
  bool better = false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}

namespace {

/// Indices of `points` in lexicographic order, ties by index: no point can be dominated by a
/// point after it. (Sorted on a flat copy: half the time of comparing the vectors.)
std::vector<int> LexicographicOrder(const std::vector<Point>& points) {
  const int n = static_cast<int>(points.size());
  const size_t m = n ? points[0].size() : 0;
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::vector<double> flat(static_cast<size_t>(n) * m);
  for (int i = 0; i < n; ++i) std::copy(points[i].begin(), points[i].end(), flat.begin() + static_cast<long>(i * m));
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    const double *pa = &flat[static_cast<size_t>(a) * m], *pb = &flat[static_cast<size_t>(b) * m];
    for (size_t k = 0; k < m; ++k)
      if (pa[k] != pb[k]) return pa[k] < pb[k];
    return a < b;
  });
  return order;
}

}  // namespace

std::vector<std::vector<int>> NonDominatedSort(const std::vector<Point>& points) {
  const int n = static_cast<int>(points.size());
  const std::vector<int> order = LexicographicOrder(points);
  std::vector<std::vector<int>> fronts;
  const size_t m = n ? points[0].size() : 0;
  if (m == 2) {
    // Two objectives: the last members of successive fronts have increasing f2, so a binary
    // search over fronts finds the first one whose last member does not dominate (O(N log N)).
    for (int idx : order) {
      int lo = 0, hi = static_cast<int>(fronts.size());
      while (lo < hi) {
        const int mid = (lo + hi) / 2;
        const int last = fronts[mid].back();
        if (Dominates(points[last], points[idx])) lo = mid + 1; else hi = mid;
      }
      if (lo == static_cast<int>(fronts.size())) fronts.emplace_back();
      fronts[lo].push_back(idx);
    }
  } else {
    for (int idx : order) {
      size_t k = 0;
      for (; k < fronts.size(); ++k) {
        bool dominated = false;
        // Check the newest members first: they are the likeliest to dominate.
        for (auto it = fronts[k].rbegin(); it != fronts[k].rend(); ++it) {
          if (Dominates(points[*it], points[idx])) {
            dominated = true;
            break;
          }
        }
        if (!dominated) break;
      }
      if (k == fronts.size()) fronts.emplace_back();
      fronts[k].push_back(idx);
    }
  }
  for (auto& f : fronts) std::sort(f.begin(), f.end());
  return fronts;
}

std::vector<int> FirstFront(const std::vector<Point>& points) {
  // In lexicographic order the front so far decides. With two objectives its members have
  // falling f2, and the last one dominates every point that any member dominates.
  const std::vector<int> order = LexicographicOrder(points);
  const bool two = !points.empty() && points[0].size() == 2;
  std::vector<int> front;
  for (int idx : order) {
    bool dominated = false;
    if (two) {
      dominated = !front.empty() && Dominates(points[front.back()], points[idx]);
    } else {
      for (auto it = front.rbegin(); it != front.rend() && !dominated; ++it) dominated = Dominates(points[*it], points[idx]);
    }
    if (!dominated) front.push_back(idx);
  }
  std::sort(front.begin(), front.end());
  return front;
}

std::vector<std::vector<int>> ConstrainedSort(const std::vector<Point>& points,
                                              const std::vector<double>& violation) {
  std::vector<int> feasible, infeasible;
  for (int i = 0; i < static_cast<int>(points.size()); ++i)
    (violation[i] <= 0 ? feasible : infeasible).push_back(i);
  std::vector<Point> fp;
  for (int i : feasible) fp.push_back(points[i]);
  std::vector<std::vector<int>> fronts;
  for (const auto& f : NonDominatedSort(fp)) {
    std::vector<int> mapped;
    for (int j : f) mapped.push_back(feasible[j]);
    fronts.push_back(mapped);
  }
  std::map<double, std::vector<int>> by_violation;
  for (int i : infeasible) by_violation[violation[i]].push_back(i);
  for (auto& [v, ids] : by_violation) fronts.push_back(ids);
  return fronts;
}

std::vector<double> CrowdingDistance(const std::vector<Point>& points,
                                     const std::vector<int>& front) {
  const size_t n = front.size();
  std::vector<double> dist(n, 0.0);
  if (n <= 2) {
    std::fill(dist.begin(), dist.end(), std::numeric_limits<double>::infinity());
    return dist;
  }
  const size_t m = points[front[0]].size();
  std::vector<size_t> order(n);
  for (size_t obj = 0; obj < m; ++obj) {
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return points[front[a]][obj] < points[front[b]][obj];
    });
    const double lo = points[front[order.front()]][obj];
    const double hi = points[front[order.back()]][obj];
    dist[order.front()] = dist[order.back()] = std::numeric_limits<double>::infinity();
    if (hi - lo <= 0) continue;
    for (size_t k = 1; k + 1 < n; ++k) {
      dist[order[k]] += (points[front[order[k + 1]]][obj] - points[front[order[k - 1]]][obj]) /
                        (hi - lo);
    }
  }
  return dist;
}

namespace {

// Area dominated by 2-D points bounded by ref (points already filtered to be < ref).
double Area2D(std::vector<std::pair<double, double>> pts, double rx, double ry) {
  std::sort(pts.begin(), pts.end());
  double area = 0, best_y = ry;
  for (const auto& [x, y] : pts) {
    if (y < best_y) {
      area += (rx - x) * (best_y - y);
      best_y = y;
    }
  }
  return area;
}

}  // namespace

double Hypervolume(const std::vector<Point>& points, const Point& reference) {
  const size_t m = reference.size();
  std::vector<Point> pts;
  for (const auto& p : points) {
    bool inside = true;
    for (size_t i = 0; i < m; ++i) inside &= p[i] < reference[i];
    if (inside) pts.push_back(p);
  }
  if (pts.empty()) return 0.0;
  if (m == 1) {
    double best = reference[0];
    for (const auto& p : pts) best = std::min(best, p[0]);
    return reference[0] - best;
  }
  if (m == 2) {
    std::vector<std::pair<double, double>> xy;
    for (const auto& p : pts) xy.emplace_back(p[0], p[1]);
    return Area2D(xy, reference[0], reference[1]);
  }
  if (m == 3) {
    // Sweep along the third objective (Beume et al.'s HV3D, O(n log n)): keep the 2-D staircase
    // of the points seen so far (x ascending, y descending) and its dominated area, updated
    // incrementally as each point is inserted; each slab adds area x thickness.
    std::sort(pts.begin(), pts.end(), [](const Point& a, const Point& b) { return a[2] < b[2]; });
    const double rx = reference[0], ry = reference[1];
    std::map<double, double> stair;  // x -> y
    double area = 0, volume = 0;
    for (size_t i = 0; i < pts.size(); ++i) {
      const double x = pts[i][0], y = pts[i][1];
      auto it = stair.upper_bound(x);
      const bool has_left = it != stair.begin();
      const bool dominated = has_left && std::prev(it)->second <= y;
      if (!dominated) {
        double cur_h = has_left ? std::prev(it)->second : ry, cur_x = x, added = 0;
        it = stair.lower_bound(x);
        while (it != stair.end() && it->second >= y) {  // points that p dominates in 2-D
          added += (it->first - cur_x) * (cur_h - y);
          cur_x = it->first;
          cur_h = it->second;
          it = stair.erase(it);
        }
        added += ((it != stair.end() ? it->first : rx) - cur_x) * (cur_h - y);
        stair[x] = y;
        area += added;
      }
      const double z_next = i + 1 < pts.size() ? pts[i + 1][2] : reference[2];
      volume += area * (z_next - pts[i][2]);
    }
    return volume;
  }
  // 4+ objectives: slice along the last objective (HSO); each slab's base is the hypervolume of
  // the points below it, one dimension down, bottoming out in the exact 3-D sweep. O(n^(m-2)
  // log n): exact and fast for the front sizes a search keeps; refused (NaN) when too large.
  if (std::pow(static_cast<double>(pts.size()), static_cast<double>(m) - 2) > 2e8)
    return std::numeric_limits<double>::quiet_NaN();
  std::sort(pts.begin(), pts.end(), [m](const Point& a, const Point& b) { return a[m - 1] < b[m - 1]; });
  const Point lower_ref(reference.begin(), reference.end() - 1);
  std::vector<Point> below;
  double volume = 0;
  for (size_t i = 0; i < pts.size(); ++i) {
    below.emplace_back(pts[i].begin(), pts[i].end() - 1);
    const double z_next = i + 1 < pts.size() ? pts[i + 1][m - 1] : reference[m - 1];
    if (z_next > pts[i][m - 1]) volume += Hypervolume(below, lower_ref) * (z_next - pts[i][m - 1]);
  }
  return volume;
}

}  // namespace paretonas::search
