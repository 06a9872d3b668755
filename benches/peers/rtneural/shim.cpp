// C entry points to RTNeural's compile-time models (ModelT) of the benchmark's shapes, compiled once per backend
// by build.rs: SHIM_PREFIX names the backend (eigen or xsimd) and prefixes every symbol, RTNEURAL_NAMESPACE keeps
// the two builds' templates apart.
//
// Each case has `new` (weights in RTNeural's layouts, see src/lib.rs), `free`, `reset`, `forward` (one call, the
// outputs copied out) and `run` (`iters` calls in a C++ loop, timed from Rust around the whole loop, so a timed
// call is RTNeural's `forward` as a C++ caller compiles it, with no foreign call per iteration).
#include <RTNeural/RTNeural.h>
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <vector>

#define SHIM_CAT2(a, b) a##_##b
#define SHIM_CAT(a, b) SHIM_CAT2(a, b)
#define SHIM(name) SHIM_CAT(SHIM_PREFIX, name)

namespace {
using namespace RTNEURAL_NAMESPACE;

// The optimiser may assume nothing about `p` after this (as Rust's black_box): the input is read anew on every
// call and the outputs are observed.
template <typename T>
inline T* opaque(T* p)
{
    asm volatile("" : "+r"(p) : : "memory");
    return p;
}

std::vector<std::vector<float>> rows(const float* data, int n_rows, int n_cols)
{
    std::vector<std::vector<float>> r(n_rows, std::vector<float>(n_cols));
    for(int i = 0; i < n_rows; ++i)
        for(int j = 0; j < n_cols; ++j)
            r[i][j] = data[i * n_cols + j];
    return r;
}

template <typename L>
void set_dense(L& layer, const float* const*& t)
{
    layer.setWeights(rows(t[0], L::out_size, L::in_size));
    layer.setBias(t[1]);
    t += 2;
}

template <typename L>
void set_lstm(L& layer, const float* const* t)
{
    layer.setWVals(rows(t[0], L::in_size, 4 * L::out_size));
    layer.setUVals(rows(t[1], L::out_size, 4 * L::out_size));
    layer.setBVals(std::vector<float>(t[2], t[2] + 4 * L::out_size));
}

template <typename L>
void set_gru(L& layer, const float* const* t)
{
    layer.setWVals(rows(t[0], L::in_size, 3 * L::out_size));
    layer.setUVals(rows(t[1], L::out_size, 3 * L::out_size));
    std::vector<std::vector<float>> b { std::vector<float>(t[2], t[2] + 3 * L::out_size),
                                        std::vector<float>(t[3], t[3] + 3 * L::out_size) };
    layer.setBVals(b);
}

// A model, an input buffer aligned as RTNeural's xsimd backend loads its inputs (with aligned vector loads), and,
// for the recurrent cases, the position in the input signal.
template <typename M>
struct Boxed
{
    M model;
    alignas(64) float input[1024] = {};
    std::uint64_t t = 0;
};

template <typename M>
void forward(void* p, const float* x, float* out)
{
    auto* b = static_cast<Boxed<M>*>(p);
    auto& m = b->model;
    std::copy(x, x + M::input_size, b->input);
    m.forward(b->input);
    for(int i = 0; i < M::output_size; ++i)
        out[i] = m.getOutputs()[i];
}

// One input, `iters` times.
template <typename M>
void run_fixed(void* p, const float* x, std::uint64_t iters)
{
    auto* b = static_cast<Boxed<M>*>(p);
    auto& m = b->model;
    std::copy(x, x + M::input_size, b->input);
    const float* in = b->input;
    for(std::uint64_t i = 0; i < iters; ++i)
    {
        m.forward(opaque(in));
        opaque(m.getOutputs());
    }
}

// One sample per step from a signal of 1024 values, carrying the state and the position across calls.
template <typename M>
void run_stream(void* p, const float* signal, std::uint64_t iters)
{
    auto* b = static_cast<Boxed<M>*>(p);
    auto& m = b->model;
    std::uint64_t t = b->t;
    float* v = b->input;
    for(std::uint64_t i = 0; i < iters; ++i)
    {
        v[0] = opaque(signal)[t & 1023];
        ++t;
        m.forward(v);
        opaque(m.getOutputs());
    }
    b->t = t;
}

using Mlp2x4x1 = ModelT<float, 2, 1, DenseT<float, 2, 4>, TanhActivationT<float, 4>, DenseT<float, 4, 1>,
    SigmoidActivationT<float, 1>>;
using Mlp16x32x32x4 = ModelT<float, 16, 4, DenseT<float, 16, 32>, ReLuActivationT<float, 32>,
    DenseT<float, 32, 32>, ReLuActivationT<float, 32>, DenseT<float, 32, 4>>;
using Mlp64x128x10 = ModelT<float, 64, 10, DenseT<float, 64, 128>, ReLuActivationT<float, 128>,
    DenseT<float, 128, 10>>;
using Mlp784x128x10 = ModelT<float, 784, 10, DenseT<float, 784, 128>, ReLuActivationT<float, 128>,
    DenseT<float, 128, 10>>;
using Mlp256x256x256 = ModelT<float, 256, 256, DenseT<float, 256, 256>, ReLuActivationT<float, 256>,
    DenseT<float, 256, 256>>;
template <int H>
using LstmModel = ModelT<float, 1, H, LSTMLayerT<float, 1, H>>;
template <int H>
using GruModel = ModelT<float, 1, H, GRULayerT<float, 1, H>>;

template <typename M>
void* new_mlp3(const float* const* t)
{
    auto* b = new Boxed<M>;
    set_dense(b->model.template get<0>(), t);
    set_dense(b->model.template get<2>(), t);
    set_dense(b->model.template get<4>(), t);
    b->model.reset();
    return b;
}

template <typename M>
void* new_mlp2(const float* const* t)
{
    auto* b = new Boxed<M>;
    set_dense(b->model.template get<0>(), t);
    set_dense(b->model.template get<2>(), t);
    b->model.reset();
    return b;
}

template <int H>
void* new_lstm(const float* const* t)
{
    auto* b = new Boxed<LstmModel<H>>;
    set_lstm(b->model.template get<0>(), t);
    b->model.reset();
    return b;
}

template <int H>
void* new_gru(const float* const* t)
{
    auto* b = new Boxed<GruModel<H>>;
    set_gru(b->model.template get<0>(), t);
    b->model.reset();
    return b;
}
} // namespace

#define SHIM_CASE(name, M, make, run)                                                         \
    extern "C" void* SHIM(name##_new)(const float* const* t) { return make(t); }             \
    extern "C" void SHIM(name##_free)(void* p) { delete static_cast<Boxed<M>*>(p); }         \
    extern "C" void SHIM(name##_reset)(void* p)                                              \
    {                                                                                        \
        static_cast<Boxed<M>*>(p)->model.reset();                                            \
        static_cast<Boxed<M>*>(p)->t = 0;                                                    \
    }                                                                                        \
    extern "C" void SHIM(name##_forward)(void* p, const float* x, float* out) { forward<M>(p, x, out); } \
    extern "C" void SHIM(name##_run)(void* p, const float* x, std::uint64_t n) { run<M>(p, x, n); }

SHIM_CASE(mlp_2_4_1, Mlp2x4x1, new_mlp2<Mlp2x4x1>, run_fixed)
SHIM_CASE(mlp_16_32_32_4, Mlp16x32x32x4, new_mlp3<Mlp16x32x32x4>, run_fixed)
SHIM_CASE(mlp_64_128_10, Mlp64x128x10, new_mlp2<Mlp64x128x10>, run_fixed)
SHIM_CASE(mlp_784_128_10, Mlp784x128x10, new_mlp2<Mlp784x128x10>, run_fixed)
SHIM_CASE(mlp_256_256_256, Mlp256x256x256, new_mlp2<Mlp256x256x256>, run_fixed)
SHIM_CASE(lstm_8, LstmModel<8>, new_lstm<8>, run_stream)
SHIM_CASE(lstm_16, LstmModel<16>, new_lstm<16>, run_stream)
SHIM_CASE(lstm_32, LstmModel<32>, new_lstm<32>, run_stream)
SHIM_CASE(gru_8, GruModel<8>, new_gru<8>, run_stream)
SHIM_CASE(gru_16, GruModel<16>, new_gru<16>, run_stream)
SHIM_CASE(gru_32, GruModel<32>, new_gru<32>, run_stream)
