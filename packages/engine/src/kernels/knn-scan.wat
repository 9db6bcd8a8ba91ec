;; The k-d tree's leaf scan in WebAssembly (`knn-scan.ts` lays out the memory and calls it): a first check of four points
;; at a time in float32 SIMD on their four leading coordinates, then each point it keeps measured exactly as the
;; JavaScript scan (`KnnSearcher.scanLeaf`) measures it, in float64, coordinate by coordinate in ascending order.
;;
;; The first check only rejects: a point is dropped when its float32 partial sum reaches `threshold`, which the caller
;; sets a little above the limit (1 + 2·10⁻⁶ times it), far beyond the float32 sum's rounding (under 4·10⁻⁷ of it, the
;; query being float32 itself): such a point's exact partial sum already reaches the limit, and JavaScript would have
;; dropped it after the same four coordinates. So the points found, and their distances, are those of the JavaScript.
;; An infinite threshold (no k-th best yet, or a limit beyond float32) checks nothing first: a float32 square may
;; overflow where the float64 one does not.
;;
;; scan(leads, points, query, dims, from, end, limit, threshold, out) → the first row r in [from, end) whose squared
;; distance to the query is below `limit` (stored as float64 at `out`), or −1; addresses in bytes:
;;   leads   the points' four leading coordinates by blocks of four points: block b (rows 4b … 4b+3) at leads + 64·b,
;;           coordinate c of its four points at + 16·c (float32)
;;   points  the points, `dims` float32 values each
;;   query   the query, `dims` float64 values
(module
  (import "env" "memory" (memory 1))
  (func (export "scan")
    (param $leads i32) (param $points i32) (param $query i32) (param $dims i32) (param $from i32) (param $end i32)
    (param $limit f64) (param $threshold f32) (param $out i32) (result i32)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128) (local $bound v128) (local $d v128) (local $s v128)
    (local $row i32) (local $block i32) (local $mask i32) (local $p i32) (local $j i32) (local $stop i32)
    (local $sum f64) (local $e0 f64) (local $e1 f64) (local $e2 f64) (local $e3 f64)
    (local.set $q0 (f32x4.splat (f32.demote_f64 (f64.load (local.get $query)))))
    (local.set $q1 (f32x4.splat (f32.demote_f64 (f64.load offset=8 (local.get $query)))))
    (local.set $q2 (f32x4.splat (f32.demote_f64 (f64.load offset=16 (local.get $query)))))
    (local.set $q3 (f32x4.splat (f32.demote_f64 (f64.load offset=24 (local.get $query)))))
    (local.set $bound (f32x4.splat (local.get $threshold)))
    (local.set $block (i32.and (local.get $from) (i32.const -4)))
    (block $scanned
      (loop $blocks
        (br_if $scanned (i32.ge_s (local.get $block) (local.get $end)))
        (local.set $p (i32.add (local.get $leads) (i32.shl (local.get $block) (i32.const 4))))
        (local.set $d (f32x4.sub (local.get $q0) (v128.load (local.get $p))))
        (local.set $s (f32x4.mul (local.get $d) (local.get $d)))
        (local.set $d (f32x4.sub (local.get $q1) (v128.load offset=16 (local.get $p))))
        (local.set $s (f32x4.add (local.get $s) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $d (f32x4.sub (local.get $q2) (v128.load offset=32 (local.get $p))))
        (local.set $s (f32x4.add (local.get $s) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $d (f32x4.sub (local.get $q3) (v128.load offset=48 (local.get $p))))
        (local.set $s (f32x4.add (local.get $s) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $mask (i32x4.bitmask (f32x4.lt (local.get $s) (local.get $bound))))
        (if (f32.eq (local.get $threshold) (f32.const inf)) (then (local.set $mask (i32.const 15))))
        ;; only the rows of [from, end)
        (if (i32.lt_s (local.get $block) (local.get $from))
          (then (local.set $mask (i32.and (local.get $mask)
            (i32.xor (i32.sub (i32.shl (i32.const 1) (i32.sub (local.get $from) (local.get $block))) (i32.const 1)) (i32.const -1))))))
        (if (i32.gt_s (i32.add (local.get $block) (i32.const 4)) (local.get $end))
          (then (local.set $mask (i32.and (local.get $mask)
            (i32.sub (i32.shl (i32.const 1) (i32.sub (local.get $end) (local.get $block))) (i32.const 1))))))
        (block $kept
          (loop $candidates
            (br_if $kept (i32.eqz (local.get $mask)))
            (local.set $row (i32.add (local.get $block) (i32.ctz (local.get $mask))))
            (local.set $mask (i32.and (local.get $mask) (i32.sub (local.get $mask) (i32.const 1))))
            (local.set $p (i32.add (local.get $points) (i32.shl (i32.mul (local.get $row) (local.get $dims)) (i32.const 2))))
            ;; exactly as JavaScript: ((d0² + d1²) + d2²) + d3², then four coordinates at a time while below the limit
            (local.set $e0 (f64.sub (f64.load (local.get $query)) (f64.promote_f32 (f32.load (local.get $p)))))
            (local.set $e1 (f64.sub (f64.load offset=8 (local.get $query)) (f64.promote_f32 (f32.load offset=4 (local.get $p)))))
            (local.set $e2 (f64.sub (f64.load offset=16 (local.get $query)) (f64.promote_f32 (f32.load offset=8 (local.get $p)))))
            (local.set $e3 (f64.sub (f64.load offset=24 (local.get $query)) (f64.promote_f32 (f32.load offset=12 (local.get $p)))))
            (local.set $sum (f64.add (f64.add (f64.add
              (f64.mul (local.get $e0) (local.get $e0)) (f64.mul (local.get $e1) (local.get $e1)))
              (f64.mul (local.get $e2) (local.get $e2))) (f64.mul (local.get $e3) (local.get $e3))))
            (br_if $candidates (i32.eqz (f64.lt (local.get $sum) (local.get $limit))))
            (local.set $j (i32.const 4))
            (block $measured
              (loop $groups
                (br_if $measured (i32.eqz (f64.lt (local.get $sum) (local.get $limit))))
                (br_if $measured (i32.ge_s (local.get $j) (local.get $dims)))
                (local.set $stop (select (i32.add (local.get $j) (i32.const 4)) (local.get $dims)
                  (i32.lt_s (i32.add (local.get $j) (i32.const 4)) (local.get $dims))))
                (loop $coordinates
                  (local.set $e0 (f64.sub
                    (f64.load (i32.add (local.get $query) (i32.shl (local.get $j) (i32.const 3))))
                    (f64.promote_f32 (f32.load (i32.add (local.get $p) (i32.shl (local.get $j) (i32.const 2)))))))
                  (local.set $sum (f64.add (local.get $sum) (f64.mul (local.get $e0) (local.get $e0))))
                  (local.set $j (i32.add (local.get $j) (i32.const 1)))
                  (br_if $coordinates (i32.lt_s (local.get $j) (local.get $stop))))
                (br $groups)))
            (br_if $candidates (i32.eqz (f64.lt (local.get $sum) (local.get $limit))))
            (f64.store (local.get $out) (local.get $sum))
            (return (local.get $row))))
        (local.set $block (i32.add (local.get $block) (i32.const 4)))
        (br $blocks)))
    (i32.const -1)))
