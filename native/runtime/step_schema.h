// The step kinds of a runtime plan, declared once: for each kind its name (what the plan's
// `op` says), the factory that validates and builds it, and its slots in order:
//
//   X(name, factory, inputs, temps, ints, floats, weights)
//
// Each slot list is a space-separated list of parameter names, in the order the plan carries
// them (StepSpec inputs / temps / ints / floats / weights):
//   name[N]   N values (a number, or a name: [rank] the input's rank, [n] the ints' first value)
//   name...   the rest: any number of values
//   name?     one value that may be absent (-1 for a weight or a temp)
// The TypeScript planner emits from the mirror of this table (src/runtime/step-schema.ts; a
// test checks the two are equal); the session checks the fixed counts of every step against
// it before the kind's factory checks the values (session.cc, steps.cc).
//
// Shared blocks: geom[10] = kh kw sh sw dh dw pad_top pad_bottom pad_left pad_right;
// window[8] = kh kw sh sw pad_top pad_bottom pad_left pad_right (docs/quantization.md §11.1);
// act = Activation code (common/activation.h: 0 linear, 1 relu, 2 relu6, 3 leaky, 4 elu, 5 sigmoid, 6 tanh, ...);
// op = ops::BinaryOp code (0 add, 1 sub, 2 mul, 3 max, 4 min, 5 div, 6 squared difference,
// 7 equal as 1.0 / 0.0: float32 only; 8 floor div, 9 floor mod: int32 only — binary_i32 takes
// 0–4, 8, 9); unary op = ops::UnaryOp code (0 sqrt, 1 rsqrt, 2 square, 3 floor, 4 abs);
// reduce op = ops::ReduceOp code (0 sum, 1 max, 2 min, 3 product).
// Weights: w is K×N for GEMM steps (conv: kh·kw·C × N), kh·kw·C·multiplier for depthwise,
// kh·kw·CI·CO for deconv; bias is int32 for 8-bit steps and float32 otherwise; multipliers
// are the §5 requantization multipliers (N or 1 values).
#pragma once

#define TFJQ_RUNTIME_STEPS(X)                                                                                       \
  X(quantize, MakeQuantize, "x", "", "zero_point", "scale", "")                                                     \
  X(dequantize, MakeDequantize, "x", "", "zero_point", "scale", "")                                                 \
  X(conv_i8, MakeConvI8, "x", "col?", "geom[10] x_zero_point y_zero_point qmin qmax", "", "w bias? multipliers")    \
  X(matmul_i8, MakeMatmulI8, "x", "", "x_zero_point y_zero_point qmin qmax", "", "w bias? multipliers")             \
  X(conv_dyn, MakeConvDyn, "x", "col?", "geom[10] per_row act", "alpha", "w w_scales bias?")                        \
  X(matmul_dyn, MakeMatmulDyn, "x", "", "per_row act", "alpha", "w w_scales bias?")                                 \
  X(conv_dyn4, MakeConvDyn4, "x", "col?", "geom[10] per_row act group_size", "alpha",                               \
    "w w_scales w_zero_points? bias?")                                                                              \
  X(matmul_dyn4, MakeMatmulDyn4, "x", "", "per_row act group_size", "alpha", "w w_scales w_zero_points? bias?")     \
  X(conv_f32, MakeConvF32, "x", "", "geom[10] act", "alpha", "w bias?")                                             \
  X(matmul_f32, MakeMatmulF32, "x", "", "act", "alpha", "w bias?")                                                  \
  X(dw_i8, MakeDwI8, "x", "", "geom[10] multiplier x_zero_point y_zero_point qmin qmax", "", "w bias? multipliers") \
  X(dw_f32, MakeDwF32, "x", "", "geom[10] multiplier act", "alpha", "w bias?")                                      \
  X(pw_dw_f32, MakePwDwF32, "x", "", "geom[10] pw_act dw_act", "pw_alpha", "pw_w pw_bias? dw_w dw_bias?")           \
  X(pw_dw_i8, MakePwDwI8, "x", "", "geom[10] x_zero_point mid_zero_point mid_qmin mid_qmax y_zero_point qmin qmax", \
    "", "pw_w pw_bias? pw_multipliers dw_w dw_bias? dw_multipliers")                                                \
  X(pw_dw_dyn, MakePwDwDyn, "x", "", "geom[10] pw_act dw_act", "", "pw_w pw_w_scales pw_bias? dw_w dw_bias?")       \
  X(deconv_i8, MakeDeconvI8, "dy", "", "geom[10] dy_zero_point y_zero_point qmin qmax", "", "w bias? multipliers")  \
  X(deconv_f32, MakeDeconvF32, "dy", "", "geom[10]", "", "w bias?")                                                 \
  X(batch_matmul_f32, MakeBatchMatmulF32, "a b", "", "transpose_a transpose_b", "", "")                             \
  X(maxpool_i8, MakeMaxpoolI8, "x", "", "window[8] qmin qmax", "", "")                                              \
  X(maxpool_f32, MakeMaxpoolF32, "x", "", "window[8]", "", "")                                                      \
  X(avgpool_i8, MakeAvgpoolI8, "x", "", "window[8] x_zero_point y_zero_point qmin qmax", "x_scale y_scale", "")     \
  X(avgpool_f32, MakeAvgpoolF32, "x", "", "window[8]", "", "")                                                      \
  X(mean_i8, MakeMeanI8, "x", "", "x_zero_point y_zero_point qmin qmax", "x_scale y_scale", "")                     \
  X(mean_f32, MakeMeanF32, "x", "", "", "", "")                                                                     \
  X(binary_i8, MakeBinaryI8, "a b", "", "op a_zero_point b_zero_point y_zero_point qmin qmax",                      \
    "a_scale b_scale y_scale", "")                                                                                  \
  X(binary_f32, MakeBinaryF32, "a b", "", "op act", "", "")                                                         \
  X(lut, MakeLut, "x", "", "", "", "table")                                                                         \
  X(act_f32, MakeActF32, "x", "", "act", "alpha", "")                                                               \
  X(softmax_i8, MakeSoftmaxI8, "x", "", "", "x_scale beta", "")                                                     \
  X(softmax_f32, MakeSoftmaxF32, "x", "", "", "beta", "")                                                           \
  X(prelu_i8, MakePreluI8, "x", "", "x_zero_point y_zero_point qmin qmax", "x_scale y_scale", "alpha")              \
  X(prelu_f32, MakePreluF32, "x", "", "", "", "alpha")                                                              \
  X(concat_i8, MakeConcatI8, "x...", "", "axis y_zero_point qmin qmax x_zero_points...", "y_scale x_scales...", "") \
  X(concat, MakeConcat, "x...", "", "axis", "", "")                                                                 \
  X(pad, MakePad, "x", "", "before[rank] after[rank] infinite", "value", "")                                        \
  X(transpose, MakeTranspose, "x", "", "perm[rank]", "", "")                                                        \
  X(resize_nearest, MakeResizeNearest, "x", "", "align_corners half_pixel_centers", "", "")                         \
  X(resize_bilinear_i8, MakeResizeBilinearI8, "x", "",                                                              \
    "align_corners half_pixel_centers x_zero_point y_zero_point qmin qmax", "x_scale y_scale", "")                  \
  X(resize_bilinear_f32, MakeResizeBilinearF32, "x", "", "align_corners half_pixel_centers", "", "")                \
  X(strided_slice, MakeStridedSlice, "x", "",                                                                       \
    "n begin[n] end[n] strides[n] begin_mask end_mask ellipsis_mask new_axis_mask shrink_axis_mask", "", "")        \
  X(depth_to_space, MakeDepthToSpace, "x", "", "block_size", "", "")                                                \
  X(copy, MakeCopy, "x", "", "", "", "")                                                                            \
  X(topk_f32, MakeTopKF32, "x", "", "k", "", "")                                                                    \
  X(take_f32, MakeTakeF32, "x indices", "", "", "", "")                                                             \
  X(cast, MakeCast, "x", "", "", "", "")                                                                            \
  X(binary_i32, MakeBinaryI32, "a b", "", "op", "", "")                                                             \
  X(argmax_f32, MakeArgMaxF32, "x", "", "axis", "", "")                                                             \
  X(gather_nd, MakeGatherNd, "params indices", "", "", "", "")                                                      \
  X(unary_f32, MakeUnaryF32, "x", "", "op", "", "")                                                                 \
  X(gather, MakeGather, "params indices", "", "axis", "", "")                                                       \
  X(reduce_f32, MakeReduceF32, "x", "", "n axes[n] op", "", "")                                                     \
  X(sparse_matmul_i8, MakeSparse, "x", "", "x_zero_point y_zero_point qmin qmax m_min m_max", "",                   \
    "w bias? multipliers")                                                                                          \
  X(sparse_conv_i8, MakeSparse, "x", "", "geom[10] x_zero_point y_zero_point qmin qmax m_min m_max", "",            \
    "w bias? multipliers")                                                                                          \
  X(sparse_matmul_f32, MakeSparse, "x", "", "act m_min m_max", "alpha", "w bias?")                                  \
  X(sparse_conv_f32, MakeSparse, "x", "", "geom[10] act m_min m_max", "alpha", "w bias?")
