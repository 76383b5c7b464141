// Factorizations and solves on the CPU through LAPACK (LAPACKE, row-major), one matrix of the
// batch at a time. Core prepares contiguous row-major buffers and interprets `info`.
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include <tinynn/core/error.h>

#include "cpu_backend.h"

namespace tinynn::cpu {

namespace {

constexpr int kRow = LAPACK_ROW_MAJOR;
using Int = lapack_int;

// One name per LAPACK routine for both precisions.
Int getrf(Int m, Int n, float* a, Int* ipiv) { return LAPACKE_sgetrf(kRow, m, n, a, n, ipiv); }
Int getrf(Int m, Int n, double* a, Int* ipiv) { return LAPACKE_dgetrf(kRow, m, n, a, n, ipiv); }
Int gesv(Int n, Int k, float* a, Int* ipiv, float* b) { return LAPACKE_sgesv(kRow, n, k, a, n, ipiv, b, k); }
Int gesv(Int n, Int k, double* a, Int* ipiv, double* b) { return LAPACKE_dgesv(kRow, n, k, a, n, ipiv, b, k); }
Int potrf(Int n, float* a) { return LAPACKE_spotrf(kRow, 'L', n, a, n); }
Int potrf(Int n, double* a) { return LAPACKE_dpotrf(kRow, 'L', n, a, n); }
Int geqrf(Int m, Int n, float* a, float* tau) { return LAPACKE_sgeqrf(kRow, m, n, a, n, tau); }
Int geqrf(Int m, Int n, double* a, double* tau) { return LAPACKE_dgeqrf(kRow, m, n, a, n, tau); }
Int orgqr(Int m, Int n, Int k, float* q, const float* tau) { return LAPACKE_sorgqr(kRow, m, n, k, q, n, tau); }
Int orgqr(Int m, Int n, Int k, double* q, const double* tau) { return LAPACKE_dorgqr(kRow, m, n, k, q, n, tau); }
Int gesdd(char job, Int m, Int n, float* a, float* s, float* u, Int ldu, float* vt, Int ldvt) {
  return LAPACKE_sgesdd(kRow, job, m, n, a, n, s, u, ldu, vt, ldvt);
}
Int gesdd(char job, Int m, Int n, double* a, double* s, double* u, Int ldu, double* vt, Int ldvt) {
  return LAPACKE_dgesdd(kRow, job, m, n, a, n, s, u, ldu, vt, ldvt);
}
Int syevd(char job, Int n, float* a, float* w) { return LAPACKE_ssyevd(kRow, job, 'L', n, a, n, w); }
Int syevd(char job, Int n, double* a, double* w) { return LAPACKE_dsyevd(kRow, job, 'L', n, a, n, w); }
Int geev(Int n, float* a, float* wr, float* wi) {
  float unused = 0;
  return LAPACKE_sgeev(kRow, 'N', 'N', n, a, n, wr, wi, &unused, 1, &unused, 1);
}
Int geev(Int n, double* a, double* wr, double* wi) {
  double unused = 0;
  return LAPACKE_dgeev(kRow, 'N', 'N', n, a, n, wr, wi, &unused, 1, &unused, 1);
}
Int gelsd(Int m, Int n, Int k, float* a, float* b, float* s, double rcond, Int* rank) {
  return LAPACKE_sgelsd(kRow, m, n, k, a, n, b, k, s, static_cast<float>(rcond), rank);
}
Int gelsd(Int m, Int n, Int k, double* a, double* b, double* s, double rcond, Int* rank) {
  return LAPACKE_dgelsd(kRow, m, n, k, a, n, b, k, s, rcond, rank);
}

// One matrix of the batch: a [m, n] and the per-op outputs at this matrix's offsets.
template <class T>
Int run_one(const LinalgPlan& p, T* a, T* b, T* values, T* values2, T* u, T* vt, std::int64_t* pivots) {
  const Int m = static_cast<Int>(p.m), n = static_cast<Int>(p.n), k = static_cast<Int>(p.k);
  const Int mn = std::min(m, n);
  switch (p.op) {
    case LinalgOp::LuFactor: {
      std::vector<Int> ipiv(static_cast<std::size_t>(std::max<Int>(mn, 1)));
      const Int info = getrf(m, n, a, ipiv.data());
      std::copy(ipiv.begin(), ipiv.begin() + mn, pivots);
      return info < 0 ? info : 0;  // an exactly zero pivot is a valid factorization (det 0)
    }
    case LinalgOp::Solve: {
      std::vector<Int> ipiv(static_cast<std::size_t>(std::max<Int>(n, 1)));
      return gesv(n, k, a, ipiv.data(), b);
    }
    case LinalgOp::Cholesky: {
      const Int info = potrf(n, a);
      for (Int i = 0; i < n; ++i)
        for (Int j = i + 1; j < n; ++j) a[i * n + j] = T(0);
      return info;
    }
    case LinalgOp::Qr: {
      // R: the upper triangle of geqrf's result; Q: orgqr expands the reflectors below it.
      const Int q_cols = p.full ? m : mn, r_rows = q_cols;
      std::vector<T> tau(static_cast<std::size_t>(std::max<Int>(mn, 1)));
      if (const Int info = geqrf(m, n, a, tau.data()); info != 0) return info;
      for (Int i = 0; i < r_rows; ++i)
        for (Int j = 0; j < n; ++j) vt[i * n + j] = (j >= i && i < mn) ? a[i * n + j] : T(0);
      for (Int i = 0; i < m; ++i)
        for (Int j = 0; j < q_cols; ++j) u[i * q_cols + j] = j < n ? a[i * n + j] : T(0);
      return q_cols == 0 ? 0 : orgqr(m, q_cols, mn, u, tau.data());
    }
    case LinalgOp::Svd: {
      if (!p.vectors) {
        T unused[1] = {T(0)};  // LAPACKE's row-major check wants ldvt >= n even when V is not computed
        return gesdd('N', m, n, a, values, unused, 1, unused, std::max<Int>(n, 1));
      }
      const Int u_cols = p.full ? m : mn;
      return gesdd(p.full ? 'A' : 'S', m, n, a, values, u, std::max<Int>(u_cols, 1), vt, std::max<Int>(n, 1));
    }
    case LinalgOp::Eigh: return syevd(p.vectors ? 'V' : 'N', n, a, values);
    case LinalgOp::Eigvals: return geev(n, a, values, values2);
    case LinalgOp::Lstsq: {
      std::vector<T> s(static_cast<std::size_t>(std::max<Int>(mn, 1)));
      Int rank = 0;
      return gelsd(m, n, k, a, b, s.data(), p.rcond, &rank);
    }
  }
  throw Error("tinynn: unknown linalg op");
}

template <class T>
void run_batch(const LinalgPlan& p) {
  auto at = [](void* base, std::int64_t i, std::int64_t size) {
    return base ? static_cast<T*>(base) + i * size : nullptr;
  };
  const LinalgPlan::Sizes size = p.sizes();
  for (std::int64_t i = 0; i < p.batch; ++i) {
    T* a = static_cast<T*>(p.a) + i * size.a;
    // LAPACK loops forever or returns garbage on NaN/inf in some routines: refuse them up front.
    if (!std::all_of(a, a + size.a, [](T x) { return std::isfinite(x); })) {
      p.info[i] = -1;
      continue;
    }
    const Int info = run_one<T>(p, a, at(p.b, i, size.b), at(p.values, i, size.values), at(p.values2, i, size.values),
                                at(p.u, i, size.u), at(p.vt, i, size.vt), p.pivots ? p.pivots + i * size.pivots : nullptr);
    if (info < 0) throw Error(fmt::format("tinynn: LAPACK rejected argument {} (a bug in tinynn)", -info));
    p.info[i] = info;
  }
}

}  // namespace

void CpuBackend::linalg(const LinalgPlan& plan) {
  switch (plan.dtype) {
    case DType::Float32: return run_batch<float>(plan);
    case DType::Float64: return run_batch<double>(plan);
    default: throw DTypeError(fmt::format("tinynn::linalg: {} is not supported (float32 or float64)", dtype_name(plan.dtype)));
  }
}

}  // namespace tinynn::cpu
