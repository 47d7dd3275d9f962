;; The serving forward pass: a chain of Dense layers for one row, with WebAssembly SIMD.
;; scripts/build.mjs assembles this file (wabt) into src/generated/dense-wasm.ts; DenseForward
;; (forward.ts) lays out the memory and calls `forward`.
;;
;; Arithmetic, as in forward.ts's contract: each float32 weight and input is widened to float64
;; and the products summed in float64 (two f64x2 sums, lanes added at the end), the bias added,
;; the activation applied in float64, and the result stored as float32, as tfjs holds
;; activations between layers. A float32 x float32 product is exact in float64, so only the
;; order of the additions differs from a plain loop.
;;
;; Memory, all offsets in bytes and 16-byte aligned, written by DenseForward:
;;   a layer table at `table`, six i32 per layer: weights, bias, out, n, units, activation
;;   weights: [units x n] float32, the kernel transposed; n is the layer's inputs rounded up to
;;            a multiple of four, and the extra columns hold 0
;;   bias:    [units] float32
;;   out:     [units rounded up to four] float32; the extra lanes stay 0, because the next
;;            layer reads its input four lanes at a time
;;   the row: [n of the first layer] float32 at `x`, extra lanes 0
(module
  (import "env" "memory" (memory 1))
  (import "math" "exp" (func $exp (param f64) (result f64)))
  (import "math" "tanh" (func $tanh (param f64) (result f64)))

  ;; 0 relu, 1 sigmoid, 2 linear, 3 tanh (ACTIVATION_CODES in forward.ts)
  (func $activate (param $z f64) (param $activation i32) (result f64)
    (local $e f64)
    (if (i32.eqz (local.get $activation)) (then
      ;; z < 0 is false for NaN, so NaN stays NaN, as in tfjs
      (return (select (f64.const 0) (local.get $z) (f64.lt (local.get $z) (f64.const 0))))))
    (if (i32.eq (local.get $activation) (i32.const 1)) (then
      ;; exp of a non-positive argument only, so a large |z| never computes Infinity / Infinity
      (if (f64.ge (local.get $z) (f64.const 0)) (then
        (return (f64.div (f64.const 1) (f64.add (f64.const 1) (call $exp (f64.neg (local.get $z))))))))
      (local.set $e (call $exp (local.get $z)))
      (return (f64.div (local.get $e) (f64.add (f64.const 1) (local.get $e))))))
    (if (i32.eq (local.get $activation) (i32.const 3)) (then
      (return (call $tanh (local.get $z)))))
    (local.get $z))

  ;; out[j] = activate(bias[j] + sum over i < n of x[i] * weights[j * n + i]), for j < units
  (func $dense (param $weights i32) (param $bias i32) (param $x i32) (param $out i32)
               (param $n i32) (param $units i32) (param $activation i32)
    (local $j i32) (local $i i32) (local $low v128) (local $high v128) (local $xs v128) (local $ws v128)
    (block $layer_done (loop $unit
      (br_if $layer_done (i32.ge_u (local.get $j) (local.get $units)))
      (local.set $low (v128.const i64x2 0 0))
      (local.set $high (v128.const i64x2 0 0))
      (local.set $i (i32.const 0))
      (block $unit_done (loop $four
        (br_if $unit_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $xs (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $ws (v128.load (local.get $weights)))
        ;; lanes 0 and 1
        (local.set $low (f64x2.add (local.get $low)
          (f64x2.mul (f64x2.promote_low_f32x4 (local.get $xs)) (f64x2.promote_low_f32x4 (local.get $ws)))))
        ;; lanes 2 and 3, moved down first
        (local.set $high (f64x2.add (local.get $high)
          (f64x2.mul
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $xs) (local.get $xs)))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $ws) (local.get $ws))))))
        (local.set $weights (i32.add (local.get $weights) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $four)))
      (local.set $low (f64x2.add (local.get $low) (local.get $high)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2)))
        (f32.demote_f64 (call $activate
          (f64.add
            (f64.promote_f32 (f32.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))
            (f64.add (f64x2.extract_lane 0 (local.get $low)) (f64x2.extract_lane 1 (local.get $low))))
          (local.get $activation))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $unit))))

  ;; Runs `layers` layers of the table on the row at $x; answers the last layer's first output.
  (func (export "forward") (param $table i32) (param $layers i32) (param $x i32) (result f64)
    (local $k i32) (local $entry i32)
    (block $done (loop $layer
      (br_if $done (i32.ge_u (local.get $k) (local.get $layers)))
      (local.set $entry (i32.add (local.get $table) (i32.mul (local.get $k) (i32.const 24))))
      (call $dense
        (i32.load (local.get $entry))
        (i32.load offset=4 (local.get $entry))
        (local.get $x)
        (i32.load offset=8 (local.get $entry))
        (i32.load offset=12 (local.get $entry))
        (i32.load offset=16 (local.get $entry))
        (i32.load offset=20 (local.get $entry)))
      (local.set $x (i32.load offset=8 (local.get $entry)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $layer)))
    (f64.promote_f32 (f32.load (local.get $x))))
)
