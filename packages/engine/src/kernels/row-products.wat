;; Rows times the transpose of a matrix, in WebAssembly SIMD (two float64 lanes): the inner loop of the learned
;; filters (`row-products.ts` lays out the memory and calls it). Each product is summed over the inner index in
;; ascending order, one multiply and one add per step, exactly as a plain JavaScript dot product does, so the results
;; are bit for bit those of one; the lanes run across outputs, never across the sum.
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
        (br $rowLoop)))))
