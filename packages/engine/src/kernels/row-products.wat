;; Row products in WebAssembly (`row-products.ts` lays out the memory and calls them): rows times the transpose of a
;; matrix in SIMD, two float64 lanes (`multiplyRows`: PS's projection) or four float32 lanes (`multiplyRowsFloat32`: the
;; learned filters), and the learned filters' gathering of a grid row's neighbourhoods and codebook residuals (below). Each
;; product is summed over the inner index in ascending order, one multiply and one add per step, exactly as a plain
;; JavaScript dot product does (with Math.fround at each step in float32), so the results are bit for bit those of one;
;; the lanes run across outputs, never across the sum.
;;
;; multiplyRows(rows, which, n, pairs, inner, outer, out), all addresses in bytes:
;;   rows   float64 rows of `inner` values; row i starts at rows + 8·inner·i
;;   which  n int32 row indices: the rows to multiply
;;   pairs  the matrix (outer × inner) by pairs of its rows, interleaved: (M[2p][k], M[2p+1][k]) at pairs + 16·(inner·p + k);
;;          an odd `outer` has a last pair whose second row is zeros
;;   out    float64 rows of `outer` values; row i of the result at out + 8·outer·i
;; Two rows by four pairs (eight outputs) at a time: each weight loaded serves two rows, each value four pairs.
(module
  (memory (export "memory") 1)
  (func (export "multiplyRows")
    (param $rows i32) (param $which i32) (param $n i32) (param $pairs i32) (param $inner i32) (param $outer i32) (param $out i32)
    (local $r i32) (local $a i32) (local $b i32) (local $oa i32) (local $ob i32)
    (local $p i32) (local $fullPairs i32) (local $stride i32) (local $w i32) (local $xa i32) (local $xb i32) (local $end i32)
    (local $va v128) (local $vb v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local.set $fullPairs (i32.shr_u (local.get $outer) (i32.const 1)))
    ;; bytes from one pair's weights to the next pair's
    (local.set $stride (i32.shl (local.get $inner) (i32.const 4)))
    (local.set $r (i32.const 0))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $n)))
        ;; rows which[r] and which[r + 1]; a last odd row is paired with itself (the same values written twice)
        (local.set $a (i32.load (i32.add (local.get $which) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $b (local.get $a))
        (if (i32.lt_s (i32.add (local.get $r) (i32.const 1)) (local.get $n))
          (then (local.set $b (i32.load offset=4 (i32.add (local.get $which) (i32.shl (local.get $r) (i32.const 2)))))))
        (local.set $oa (i32.add (local.get $out) (i32.shl (i32.mul (local.get $a) (local.get $outer)) (i32.const 3))))
        (local.set $ob (i32.add (local.get $out) (i32.shl (i32.mul (local.get $b) (local.get $outer)) (i32.const 3))))
        (local.set $a (i32.add (local.get $rows) (i32.shl (i32.mul (local.get $a) (local.get $inner)) (i32.const 3))))
        (local.set $b (i32.add (local.get $rows) (i32.shl (i32.mul (local.get $b) (local.get $inner)) (i32.const 3))))
        (local.set $end (i32.add (local.get $a) (i32.shl (local.get $inner) (i32.const 3))))
        (local.set $p (i32.const 0))
        ;; four whole pairs at a time
        (block $quadsDone
          (loop $quadLoop
            (br_if $quadsDone (i32.gt_s (i32.add (local.get $p) (i32.const 4)) (local.get $fullPairs)))
            (local.set $w (i32.add (local.get $pairs) (i32.mul (local.get $p) (local.get $stride))))
            (local.set $a0 (v128.const f64x2 0 0)) (local.set $a1 (v128.const f64x2 0 0))
            (local.set $a2 (v128.const f64x2 0 0)) (local.set $a3 (v128.const f64x2 0 0))
            (local.set $b0 (v128.const f64x2 0 0)) (local.set $b1 (v128.const f64x2 0 0))
            (local.set $b2 (v128.const f64x2 0 0)) (local.set $b3 (v128.const f64x2 0 0))
            (local.set $xa (local.get $a))
            (local.set $xb (local.get $b))
            (block $kDone
              (loop $kLoop
                (br_if $kDone (i32.ge_u (local.get $xa) (local.get $end)))
                (local.set $va (f64x2.splat (f64.load (local.get $xa))))
                (local.set $vb (f64x2.splat (f64.load (local.get $xb))))
                (local.set $w0 (v128.load (local.get $w)))
                (local.set $w1 (v128.load (i32.add (local.get $w) (local.get $stride))))
                (local.set $w2 (v128.load (i32.add (local.get $w) (i32.shl (local.get $stride) (i32.const 1)))))
                (local.set $w3 (v128.load (i32.add (local.get $w) (i32.mul (local.get $stride) (i32.const 3)))))
                (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $w0) (local.get $va))))
                (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $w1) (local.get $va))))
                (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $w2) (local.get $va))))
                (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $w3) (local.get $va))))
                (local.set $b0 (f64x2.add (local.get $b0) (f64x2.mul (local.get $w0) (local.get $vb))))
                (local.set $b1 (f64x2.add (local.get $b1) (f64x2.mul (local.get $w1) (local.get $vb))))
                (local.set $b2 (f64x2.add (local.get $b2) (f64x2.mul (local.get $w2) (local.get $vb))))
                (local.set $b3 (f64x2.add (local.get $b3) (f64x2.mul (local.get $w3) (local.get $vb))))
                (local.set $xa (i32.add (local.get $xa) (i32.const 8)))
                (local.set $xb (i32.add (local.get $xb) (i32.const 8)))
                (local.set $w (i32.add (local.get $w) (i32.const 16)))
                (br $kLoop)))
            (v128.store offset=0 (i32.add (local.get $oa) (i32.shl (local.get $p) (i32.const 4))) (local.get $a0))
            (v128.store offset=16 (i32.add (local.get $oa) (i32.shl (local.get $p) (i32.const 4))) (local.get $a1))
            (v128.store offset=32 (i32.add (local.get $oa) (i32.shl (local.get $p) (i32.const 4))) (local.get $a2))
            (v128.store offset=48 (i32.add (local.get $oa) (i32.shl (local.get $p) (i32.const 4))) (local.get $a3))
            (v128.store offset=0 (i32.add (local.get $ob) (i32.shl (local.get $p) (i32.const 4))) (local.get $b0))
            (v128.store offset=16 (i32.add (local.get $ob) (i32.shl (local.get $p) (i32.const 4))) (local.get $b1))
            (v128.store offset=32 (i32.add (local.get $ob) (i32.shl (local.get $p) (i32.const 4))) (local.get $b2))
            (v128.store offset=48 (i32.add (local.get $ob) (i32.shl (local.get $p) (i32.const 4))) (local.get $b3))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $quadLoop)))
        ;; the pairs left, one at a time; the last of an odd `outer` stores its first lane only
        (block $pairsDone
          (loop $pairLoop
            (br_if $pairsDone (i32.ge_s (i32.shl (local.get $p) (i32.const 1)) (local.get $outer)))
            (local.set $w (i32.add (local.get $pairs) (i32.mul (local.get $p) (local.get $stride))))
            (local.set $a0 (v128.const f64x2 0 0))
            (local.set $b0 (v128.const f64x2 0 0))
            (local.set $xa (local.get $a))
            (local.set $xb (local.get $b))
            (block $kDone1
              (loop $kLoop1
                (br_if $kDone1 (i32.ge_u (local.get $xa) (local.get $end)))
                (local.set $w0 (v128.load (local.get $w)))
                (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $w0) (f64x2.splat (f64.load (local.get $xa))))))
                (local.set $b0 (f64x2.add (local.get $b0) (f64x2.mul (local.get $w0) (f64x2.splat (f64.load (local.get $xb))))))
                (local.set $xa (i32.add (local.get $xa) (i32.const 8)))
                (local.set $xb (i32.add (local.get $xb) (i32.const 8)))
                (local.set $w (i32.add (local.get $w) (i32.const 16)))
                (br $kLoop1)))
            (if (i32.lt_s (local.get $p) (local.get $fullPairs))
              (then
                (v128.store (i32.add (local.get $oa) (i32.shl (local.get $p) (i32.const 4))) (local.get $a0))
                (v128.store (i32.add (local.get $ob) (i32.shl (local.get $p) (i32.const 4))) (local.get $b0)))
              (else
                (f64.store (i32.add (local.get $oa) (i32.shl (local.get $p) (i32.const 4))) (f64x2.extract_lane 0 (local.get $a0)))
                (f64.store (i32.add (local.get $ob) (i32.shl (local.get $p) (i32.const 4))) (f64x2.extract_lane 0 (local.get $b0)))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $pairLoop)))
        (local.set $r (i32.add (local.get $r) (i32.const 2)))
        (br $rowLoop))))

  ;; multiplyRowsFloat32(rows, which, n, quads, inner, outer, out), all addresses in bytes:
  ;;   rows   float32 rows of `inner` values; row i starts at rows + 4·inner·i
  ;;   which  n int32 row indices: the rows to multiply
  ;;   quads  the matrix (outer × inner, outer a multiple of 4: padded with rows of zeros) by quads of its rows,
  ;;          interleaved: (M[4q][k], M[4q+1][k], M[4q+2][k], M[4q+3][k]) at quads + 16·(inner·q + k)
  ;;   out    float32 rows of `outer` values; row i of the result at out + 4·outer·i
  ;; Single precision, four lanes across outputs: each product rounded, then each sum, over k in ascending order (as
  ;; Math.fround of each step would). Two rows by four quads (sixteen outputs) at a time.
  (func (export "multiplyRowsFloat32")
    (param $rows i32) (param $which i32) (param $n i32) (param $quads i32) (param $inner i32) (param $outer i32) (param $out i32)
    (local $r i32) (local $a i32) (local $b i32) (local $oa i32) (local $ob i32)
    (local $q i32) (local $quadCount i32) (local $stride i32) (local $w i32) (local $xa i32) (local $xb i32) (local $end i32)
    (local $va v128) (local $vb v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local.set $quadCount (i32.shr_u (local.get $outer) (i32.const 2)))
    ;; bytes from one quad's weights to the next quad's
    (local.set $stride (i32.shl (local.get $inner) (i32.const 4)))
    (local.set $r (i32.const 0))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $n)))
        ;; rows which[r] and which[r + 1]; a last odd row is paired with itself (the same values written twice)
        (local.set $a (i32.load (i32.add (local.get $which) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $b (local.get $a))
        (if (i32.lt_s (i32.add (local.get $r) (i32.const 1)) (local.get $n))
          (then (local.set $b (i32.load offset=4 (i32.add (local.get $which) (i32.shl (local.get $r) (i32.const 2)))))))
        (local.set $oa (i32.add (local.get $out) (i32.shl (i32.mul (local.get $a) (local.get $outer)) (i32.const 2))))
        (local.set $ob (i32.add (local.get $out) (i32.shl (i32.mul (local.get $b) (local.get $outer)) (i32.const 2))))
        (local.set $a (i32.add (local.get $rows) (i32.shl (i32.mul (local.get $a) (local.get $inner)) (i32.const 2))))
        (local.set $b (i32.add (local.get $rows) (i32.shl (i32.mul (local.get $b) (local.get $inner)) (i32.const 2))))
        (local.set $end (i32.add (local.get $a) (i32.shl (local.get $inner) (i32.const 2))))
        (local.set $q (i32.const 0))
        ;; four quads at a time
        (block $blocksDone
          (loop $blockLoop
            (br_if $blocksDone (i32.gt_s (i32.add (local.get $q) (i32.const 4)) (local.get $quadCount)))
            (local.set $w (i32.add (local.get $quads) (i32.mul (local.get $q) (local.get $stride))))
            (local.set $a0 (v128.const f32x4 0 0 0 0)) (local.set $a1 (v128.const f32x4 0 0 0 0))
            (local.set $a2 (v128.const f32x4 0 0 0 0)) (local.set $a3 (v128.const f32x4 0 0 0 0))
            (local.set $b0 (v128.const f32x4 0 0 0 0)) (local.set $b1 (v128.const f32x4 0 0 0 0))
            (local.set $b2 (v128.const f32x4 0 0 0 0)) (local.set $b3 (v128.const f32x4 0 0 0 0))
            (local.set $xa (local.get $a))
            (local.set $xb (local.get $b))
            (block $kDone
              (loop $kLoop
                (br_if $kDone (i32.ge_u (local.get $xa) (local.get $end)))
                (local.set $va (v128.load32_splat (local.get $xa)))
                (local.set $vb (v128.load32_splat (local.get $xb)))
                (local.set $w0 (v128.load (local.get $w)))
                (local.set $w1 (v128.load (i32.add (local.get $w) (local.get $stride))))
                (local.set $w2 (v128.load (i32.add (local.get $w) (i32.shl (local.get $stride) (i32.const 1)))))
                (local.set $w3 (v128.load (i32.add (local.get $w) (i32.mul (local.get $stride) (i32.const 3)))))
                (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $w0) (local.get $va))))
                (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $w1) (local.get $va))))
                (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $w2) (local.get $va))))
                (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $w3) (local.get $va))))
                (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $w0) (local.get $vb))))
                (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (local.get $w1) (local.get $vb))))
                (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (local.get $w2) (local.get $vb))))
                (local.set $b3 (f32x4.add (local.get $b3) (f32x4.mul (local.get $w3) (local.get $vb))))
                (local.set $xa (i32.add (local.get $xa) (i32.const 4)))
                (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
                (local.set $w (i32.add (local.get $w) (i32.const 16)))
                (br $kLoop)))
            (v128.store offset=0 (i32.add (local.get $oa) (i32.shl (local.get $q) (i32.const 4))) (local.get $a0))
            (v128.store offset=16 (i32.add (local.get $oa) (i32.shl (local.get $q) (i32.const 4))) (local.get $a1))
            (v128.store offset=32 (i32.add (local.get $oa) (i32.shl (local.get $q) (i32.const 4))) (local.get $a2))
            (v128.store offset=48 (i32.add (local.get $oa) (i32.shl (local.get $q) (i32.const 4))) (local.get $a3))
            (v128.store offset=0 (i32.add (local.get $ob) (i32.shl (local.get $q) (i32.const 4))) (local.get $b0))
            (v128.store offset=16 (i32.add (local.get $ob) (i32.shl (local.get $q) (i32.const 4))) (local.get $b1))
            (v128.store offset=32 (i32.add (local.get $ob) (i32.shl (local.get $q) (i32.const 4))) (local.get $b2))
            (v128.store offset=48 (i32.add (local.get $ob) (i32.shl (local.get $q) (i32.const 4))) (local.get $b3))
            (local.set $q (i32.add (local.get $q) (i32.const 4)))
            (br $blockLoop)))
        ;; the quads left, one at a time
        (block $quadsDone
          (loop $quadLoop
            (br_if $quadsDone (i32.ge_s (local.get $q) (local.get $quadCount)))
            (local.set $w (i32.add (local.get $quads) (i32.mul (local.get $q) (local.get $stride))))
            (local.set $a0 (v128.const f32x4 0 0 0 0))
            (local.set $b0 (v128.const f32x4 0 0 0 0))
            (local.set $xa (local.get $a))
            (local.set $xb (local.get $b))
            (block $kDone1
              (loop $kLoop1
                (br_if $kDone1 (i32.ge_u (local.get $xa) (local.get $end)))
                (local.set $w0 (v128.load (local.get $w)))
                (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $w0) (v128.load32_splat (local.get $xa)))))
                (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $w0) (v128.load32_splat (local.get $xb)))))
                (local.set $xa (i32.add (local.get $xa) (i32.const 4)))
                (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
                (local.set $w (i32.add (local.get $w) (i32.const 16)))
                (br $kLoop1)))
            (v128.store (i32.add (local.get $oa) (i32.shl (local.get $q) (i32.const 4))) (local.get $a0))
            (v128.store (i32.add (local.get $ob) (i32.shl (local.get $q) (i32.const 4))) (local.get $b0))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $quadLoop)))
        (local.set $r (i32.add (local.get $r) (i32.const 2)))
        (br $rowLoop))))

  ;; codebookResiduals(which, n, projected, middleDims, middleStride, responses, outer, outerStride, energies, keptScales, restGain, out)
  ;; The learned filters' codebook residual of each row gx = which[r] (r < n) after `multiplyRowsFloat32`, at out[gx]
  ;; (float64), as `plainResidual` in `test/row-products.test.ts` computes it, step for step, in float64: over the whitened values y
  ;; (float32 row gx of `projected`, middleDims of them, rows middleStride apart) |y|² and the energy energies[gx] less each
  ;; (y·keptScales[c])², then |y|² + restGain·max(0, energy) less the square of the largest |response| (float32 row gx of
  ;; `responses`, outer of them, rows outerStride apart), floored at 0, its square root. Two rows at a time, one in each
  ;; float64 lane (each lane's sums in the scalar order; a last odd row is paired with itself).
  (func (export "codebookResiduals")
    (param $which i32) (param $n i32) (param $projected i32) (param $middleDims i32) (param $middleStride i32) (param $responses i32)
    (param $outer i32) (param $outerStride i32) (param $energies i32) (param $keptScales i32) (param $restGain f64) (param $out i32)
    (local $r i32) (local $a i32) (local $b i32) (local $atA i32) (local $atB i32) (local $end i32) (local $scale i32)
    (local $norm v128) (local $energy v128) (local $dot v128) (local $t v128) (local $best v128)
    (block $done
      (loop $rowsLoop
        (br_if $done (i32.ge_s (local.get $r) (local.get $n)))
        (local.set $a (i32.load (i32.add (local.get $which) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $b (local.get $a))
        (if (i32.lt_s (i32.add (local.get $r) (i32.const 1)) (local.get $n))
          (then (local.set $b (i32.load offset=4 (i32.add (local.get $which) (i32.shl (local.get $r) (i32.const 2)))))))
        (local.set $energy (f64x2.replace_lane 1
          (f64x2.splat (f64.load (i32.add (local.get $energies) (i32.shl (local.get $a) (i32.const 3)))))
          (f64.load (i32.add (local.get $energies) (i32.shl (local.get $b) (i32.const 3))))))
        (local.set $norm (v128.const f64x2 0 0))
        (local.set $atA (i32.add (local.get $projected) (i32.shl (i32.mul (local.get $a) (local.get $middleStride)) (i32.const 2))))
        (local.set $atB (i32.add (local.get $projected) (i32.shl (i32.mul (local.get $b) (local.get $middleStride)) (i32.const 2))))
        (local.set $end (i32.add (local.get $atA) (i32.shl (local.get $middleDims) (i32.const 2))))
        (local.set $scale (local.get $keptScales))
        (block $whitenedDone
          (loop $whitened
            (br_if $whitenedDone (i32.ge_u (local.get $atA) (local.get $end)))
            (local.set $dot (f64x2.promote_low_f32x4 (f32x4.replace_lane 1 (v128.load32_zero (local.get $atA)) (f32.load (local.get $atB)))))
            (local.set $norm (f64x2.add (local.get $norm) (f64x2.mul (local.get $dot) (local.get $dot))))
            (local.set $t (f64x2.mul (local.get $dot) (f64x2.splat (f64.load (local.get $scale)))))
            (local.set $energy (f64x2.sub (local.get $energy) (f64x2.mul (local.get $t) (local.get $t))))
            (local.set $atA (i32.add (local.get $atA) (i32.const 4)))
            (local.set $atB (i32.add (local.get $atB) (i32.const 4)))
            (local.set $scale (i32.add (local.get $scale) (i32.const 8)))
            (br $whitened)))
        (local.set $norm (f64x2.add (local.get $norm)
          (f64x2.mul (f64x2.splat (local.get $restGain)) (f64x2.max (v128.const f64x2 0 0) (local.get $energy)))))
        (local.set $best (v128.const f64x2 0 0))
        (local.set $atA (i32.add (local.get $responses) (i32.shl (i32.mul (local.get $a) (local.get $outerStride)) (i32.const 2))))
        (local.set $atB (i32.add (local.get $responses) (i32.shl (i32.mul (local.get $b) (local.get $outerStride)) (i32.const 2))))
        (local.set $end (i32.add (local.get $atA) (i32.shl (local.get $outer) (i32.const 2))))
        (block $responsesDone
          (loop $responsesLoop
            (br_if $responsesDone (i32.ge_u (local.get $atA) (local.get $end)))
            (local.set $dot (f64x2.abs (f64x2.promote_low_f32x4 (f32x4.replace_lane 1 (v128.load32_zero (local.get $atA)) (f32.load (local.get $atB))))))
            ;; best < |response| ? |response| : best, the scalar "if (|response| > best) best = |response|"
            (local.set $best (f64x2.pmax (local.get $best) (local.get $dot)))
            (local.set $atA (i32.add (local.get $atA) (i32.const 4)))
            (local.set $atB (i32.add (local.get $atB) (i32.const 4)))
            (br $responsesLoop)))
        (local.set $t (f64x2.sqrt (f64x2.max (v128.const f64x2 0 0) (f64x2.sub (local.get $norm) (f64x2.mul (local.get $best) (local.get $best))))))
        ;; lane 1 first: with a lone last row (b = a) lane 0 is the one kept
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $b) (i32.const 3))) (f64x2.extract_lane 1 (local.get $t)))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $a) (i32.const 3))) (f64x2.extract_lane 0 (local.get $t)))
        (local.set $r (i32.add (local.get $r) (i32.const 2)))
        (br $rowsLoop))))

  ;; gatherNeighbourhoods(padded, paddedWidth, corner, width, size, floor, mean, needed, rows, energies, varying, flat, flatCount)
  ;; One grid row of the learned filters' first layer: for each grid pixel gx (skipped where the byte needed[gx] is 0,
  ;; unless needed is −1), the size × size neighbourhood whose top-left corner is the float32 `corner` + 2·gx of the
  ;; padded plane, copied to row gx of `rows` (size² float32). A neighbourhood of equal values is listed in `flat` and
  ;; left as it is; any other is normalised in float64, x = (v − m)·s − mean[k] with m its mean and s = 1 / √(max(0,
  ;; Σv²/n − m²) + floor), stored rounded to float32, its energy Σx² (of the rounded x) at energies[gx] (float64), and gx
  ;; listed in `varying`. Returns how many are varying; the flat count goes to the int32 at flatCount.
  ;; The row is copied a line at a time in chunks of four values, then its sums taken in SIMD: Σv and Σv² over the values
  ;; in four chains, one per lane of two float64 pairs (values k ≡ 0, 1, 2, 3 mod 4), then the chains added (0 + 1) + (2 + 3),
  ;; then the values left over (n mod 4) in order; the normalised values two at a time, Σx² in two chains (k even, odd),
  ;; added, then a last odd value. `test/row-products.test.ts` spells out the same order in JavaScript.
  (func (export "gatherNeighbourhoods")
    (param $padded i32) (param $paddedWidth i32) (param $corner i32) (param $width i32) (param $size i32) (param $floor f64)
    (param $mean i32) (param $needed i32) (param $rows i32) (param $energies i32) (param $varying i32) (param $flat i32)
    (param $flatCount i32) (result i32)
    (local $gx i32) (local $n i32) (local $flats i32) (local $dims i32) (local $row i32) (local $at i32) (local $line i32)
    (local $k i32) (local $end i32) (local $dy i32) (local $lineBytes i32) (local $rowBytes i32) (local $quadEnd i32)
    (local $pairEnd i32) (local $to i32) (local $off i32)
    (local $first v128) (local $chunk v128) (local $low v128) (local $high v128) (local $differs v128)
    (local $sumLow v128) (local $sumHigh v128) (local $squaresLow v128) (local $squaresHigh v128)
    (local $m v128) (local $scale v128) (local $x v128) (local $rounded v128) (local $energy v128)
    (local $v f64) (local $sum f64) (local $sumSq f64) (local $mean1 f64) (local $scale1 f64) (local $x1 f64) (local $energy1 f64)
    (local $count f64) (local $equal i32)
    (local.set $dims (i32.mul (local.get $size) (local.get $size)))
    (local.set $count (f64.convert_i32_s (local.get $dims)))
    (local.set $lineBytes (i32.shl (local.get $paddedWidth) (i32.const 2)))
    (local.set $rowBytes (i32.shl (local.get $dims) (i32.const 2)))
    ;; the row's bytes in whole chunks of four values, and in whole pairs
    (local.set $quadEnd (i32.and (local.get $rowBytes) (i32.const -16)))
    (local.set $pairEnd (i32.and (local.get $rowBytes) (i32.const -8)))
    (local.set $gx (i32.const 0))
    (block $done
      (loop $pixels
        (br_if $done (i32.ge_s (local.get $gx) (local.get $width)))
        (block $next
          (if (i32.ge_s (local.get $needed) (i32.const 0))
            (then (br_if $next (i32.eqz (i32.load8_u (i32.add (local.get $needed) (local.get $gx)))))))
          (local.set $row (i32.add (local.get $rows) (i32.mul (local.get $gx) (local.get $rowBytes))))
          (local.set $at (i32.add (local.get $padded) (i32.shl (i32.add (local.get $corner) (i32.shl (local.get $gx) (i32.const 1))) (i32.const 2))))
          ;; copy: each line in chunks of four values, the last chunk ending at the line's end (overlapping the one before);
          ;; lines shorter than four value by value
          (local.set $to (local.get $row))
          (local.set $dy (i32.const 0))
          (block $copied
            (loop $lines
              (br_if $copied (i32.ge_s (local.get $dy) (local.get $size)))
              (local.set $line (i32.add (local.get $at) (i32.mul (local.get $dy) (local.get $lineBytes))))
              (if (i32.ge_s (local.get $size) (i32.const 4))
                (then
                  (local.set $off (i32.const 0))
                  (block $chunksDone
                    (loop $chunks
                      (br_if $chunksDone (i32.gt_s (i32.add (local.get $off) (i32.const 4)) (local.get $size)))
                      (v128.store (i32.add (local.get $to) (i32.shl (local.get $off) (i32.const 2)))
                        (v128.load (i32.add (local.get $line) (i32.shl (local.get $off) (i32.const 2)))))
                      (local.set $off (i32.add (local.get $off) (i32.const 4)))
                      (br $chunks)))
                  (if (i32.and (local.get $size) (i32.const 3))
                    (then
                      (local.set $off (i32.shl (i32.sub (local.get $size) (i32.const 4)) (i32.const 2)))
                      (v128.store (i32.add (local.get $to) (local.get $off)) (v128.load (i32.add (local.get $line) (local.get $off)))))))
                (else
                  (local.set $off (i32.const 0))
                  (block $valuesDone
                    (loop $values
                      (br_if $valuesDone (i32.ge_s (local.get $off) (local.get $size)))
                      (f32.store (i32.add (local.get $to) (i32.shl (local.get $off) (i32.const 2)))
                        (f32.load (i32.add (local.get $line) (i32.shl (local.get $off) (i32.const 2)))))
                      (local.set $off (i32.add (local.get $off) (i32.const 1)))
                      (br $values)))))
              (local.set $to (i32.add (local.get $to) (i32.shl (local.get $size) (i32.const 2))))
              (local.set $dy (i32.add (local.get $dy) (i32.const 1)))
              (br $lines)))
          ;; sums and the flat check over the contiguous row
          (local.set $first (f32x4.splat (f32.load (local.get $row))))
          (local.set $differs (v128.const i32x4 0 0 0 0))
          (local.set $sumLow (v128.const f64x2 0 0)) (local.set $sumHigh (v128.const f64x2 0 0))
          (local.set $squaresLow (v128.const f64x2 0 0)) (local.set $squaresHigh (v128.const f64x2 0 0))
          (local.set $k (i32.const 0))
          (block $quadsDone
            (loop $quads
              (br_if $quadsDone (i32.ge_u (local.get $k) (local.get $quadEnd)))
              (local.set $chunk (v128.load (i32.add (local.get $row) (local.get $k))))
              (local.set $differs (v128.or (local.get $differs) (f32x4.ne (local.get $chunk) (local.get $first))))
              (local.set $low (f64x2.promote_low_f32x4 (local.get $chunk)))
              (local.set $high (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $chunk) (local.get $chunk))))
              (local.set $sumLow (f64x2.add (local.get $sumLow) (local.get $low)))
              (local.set $sumHigh (f64x2.add (local.get $sumHigh) (local.get $high)))
              (local.set $squaresLow (f64x2.add (local.get $squaresLow) (f64x2.mul (local.get $low) (local.get $low))))
              (local.set $squaresHigh (f64x2.add (local.get $squaresHigh) (f64x2.mul (local.get $high) (local.get $high))))
              (local.set $k (i32.add (local.get $k) (i32.const 16)))
              (br $quads)))
          (local.set $equal (i32.eqz (v128.any_true (local.get $differs))))
          (local.set $sum (f64.add
            (f64.add (f64x2.extract_lane 0 (local.get $sumLow)) (f64x2.extract_lane 1 (local.get $sumLow)))
            (f64.add (f64x2.extract_lane 0 (local.get $sumHigh)) (f64x2.extract_lane 1 (local.get $sumHigh)))))
          (local.set $sumSq (f64.add
            (f64.add (f64x2.extract_lane 0 (local.get $squaresLow)) (f64x2.extract_lane 1 (local.get $squaresLow)))
            (f64.add (f64x2.extract_lane 0 (local.get $squaresHigh)) (f64x2.extract_lane 1 (local.get $squaresHigh)))))
          (block $restDone
            (loop $rest
              (br_if $restDone (i32.ge_u (local.get $k) (local.get $rowBytes)))
              (local.set $v (f64.promote_f32 (f32.load (i32.add (local.get $row) (local.get $k)))))
              (if (f64.ne (local.get $v) (f64.promote_f32 (f32.load (local.get $row)))) (then (local.set $equal (i32.const 0))))
              (local.set $sum (f64.add (local.get $sum) (local.get $v)))
              (local.set $sumSq (f64.add (local.get $sumSq) (f64.mul (local.get $v) (local.get $v))))
              (local.set $k (i32.add (local.get $k) (i32.const 4)))
              (br $rest)))
          (if (local.get $equal)
            (then
              (i32.store (i32.add (local.get $flat) (i32.shl (local.get $flats) (i32.const 2))) (local.get $gx))
              (local.set $flats (i32.add (local.get $flats) (i32.const 1)))
              (br $next)))
          (local.set $mean1 (f64.div (local.get $sum) (local.get $count)))
          (local.set $scale1 (f64.div (f64.const 1)
            (f64.sqrt (f64.add
              (f64.max (f64.const 0) (f64.sub (f64.div (local.get $sumSq) (local.get $count)) (f64.mul (local.get $mean1) (local.get $mean1))))
              (local.get $floor)))))
          ;; normalised two values at a time (the mean's values are float64, two per 16 bytes)
          (local.set $m (f64x2.splat (local.get $mean1)))
          (local.set $scale (f64x2.splat (local.get $scale1)))
          (local.set $energy (v128.const f64x2 0 0))
          (local.set $k (i32.const 0))
          (block $pairsDone
            (loop $pairs
              (br_if $pairsDone (i32.ge_u (local.get $k) (local.get $pairEnd)))
              (local.set $x (f64x2.sub
                (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $row) (local.get $k)))) (local.get $m)) (local.get $scale))
                (v128.load (i32.add (local.get $mean) (i32.shl (local.get $k) (i32.const 1))))))
              (local.set $rounded (f32x4.demote_f64x2_zero (local.get $x)))
              (v128.store64_lane 0 (i32.add (local.get $row) (local.get $k)) (local.get $rounded))
              (local.set $x (f64x2.promote_low_f32x4 (local.get $rounded)))
              (local.set $energy (f64x2.add (local.get $energy) (f64x2.mul (local.get $x) (local.get $x))))
              (local.set $k (i32.add (local.get $k) (i32.const 8)))
              (br $pairs)))
          (local.set $energy1 (f64.add (f64x2.extract_lane 0 (local.get $energy)) (f64x2.extract_lane 1 (local.get $energy))))
          (if (i32.lt_u (local.get $k) (local.get $rowBytes))
            (then
              (local.set $x1 (f64.promote_f32 (f32.demote_f64 (f64.sub
                (f64.mul (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $row) (local.get $k)))) (local.get $mean1)) (local.get $scale1))
                (f64.load (i32.add (local.get $mean) (i32.shl (local.get $k) (i32.const 1))))))))
              (f32.store (i32.add (local.get $row) (local.get $k)) (f32.demote_f64 (local.get $x1)))
              (local.set $energy1 (f64.add (local.get $energy1) (f64.mul (local.get $x1) (local.get $x1))))))
          (f64.store (i32.add (local.get $energies) (i32.shl (local.get $gx) (i32.const 3))) (local.get $energy1))
          (i32.store (i32.add (local.get $varying) (i32.shl (local.get $n) (i32.const 2))) (local.get $gx))
          (local.set $n (i32.add (local.get $n) (i32.const 1))))
        (local.set $gx (i32.add (local.get $gx) (i32.const 1)))
        (br $pixels)))
    (i32.store (local.get $flatCount) (local.get $flats))
    (local.get $n)))
