;; CRC32C and xxh64 of small frames, in WebAssembly (FORMAT.md › Frame). Called through N-API, each of the two hashes
;; of a frame costs about 100 ns of boundary crossing however small the frame; a call into this module costs a few
;; ns, so a frame of up to a few hundred bytes is hashed here whole, in one call, after its payload was copied into
;; the module's memory. Larger frames keep the native (hardware CRC32C) path: see src/internal/frame-hash.ts.
;;
;; Memory (one page, never grown): CRC32C slice-by-8 tables at [0, 8192) (table k, k = 0..7, is 256 little-endian
;; u32 at k * 1024, filled by frame-hash.ts at load); a frame's scratch from SCRATCH = 8192: its 28-byte header, then
;; its payload. Build: `pnpm --filter @homedb/log run build:wasm` (wabt) writes src/internal/frame-hash-wasm.ts;
;; test/frame-hash.test.ts checks that file against this source and both hashes against the native libraries.
(module
  (memory (export "memory") 1 1)
  (global $P1 i64 (i64.const 0x9E3779B185EBCA87))
  (global $P2 i64 (i64.const 0xC2B2AE3D27D4EB4F))
  (global $P3 i64 (i64.const 0x165667B19E3779F9))
  (global $P4 i64 (i64.const 0x85EBCA77C2B2AE63))
  (global $P5 i64 (i64.const 0x27D4EB2F165667C5))

  (func $round (param $acc i64) (param $input i64) (result i64)
    (i64.mul (i64.rotl (i64.add (local.get $acc) (i64.mul (local.get $input) (global.get $P2))) (i64.const 31))
             (global.get $P1)))

  (func $merge (param $acc i64) (param $val i64) (result i64)
    (i64.add
      (i64.mul (i64.xor (local.get $acc) (call $round (i64.const 0) (local.get $val))) (global.get $P1))
      (global.get $P4)))

  (func $xxh64 (export "xxh64") (param $p i32) (param $len i32) (param $seed i64) (result i64)
    (local $end i32) (local $limit i32) (local $h i64)
    (local $v1 i64) (local $v2 i64) (local $v3 i64) (local $v4 i64)
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (if (i32.ge_u (local.get $len) (i32.const 32))
      (then
        (local.set $limit (i32.sub (local.get $end) (i32.const 32)))
        (local.set $v1 (i64.add (i64.add (local.get $seed) (global.get $P1)) (global.get $P2)))
        (local.set $v2 (i64.add (local.get $seed) (global.get $P2)))
        (local.set $v3 (local.get $seed))
        (local.set $v4 (i64.sub (local.get $seed) (global.get $P1)))
        (loop $stripes
          (local.set $v1 (call $round (local.get $v1) (i64.load (local.get $p))))
          (local.set $v2 (call $round (local.get $v2) (i64.load offset=8 (local.get $p))))
          (local.set $v3 (call $round (local.get $v3) (i64.load offset=16 (local.get $p))))
          (local.set $v4 (call $round (local.get $v4) (i64.load offset=24 (local.get $p))))
          (local.set $p (i32.add (local.get $p) (i32.const 32)))
          (br_if $stripes (i32.le_u (local.get $p) (local.get $limit))))
        (local.set $h (i64.add (i64.add (i64.rotl (local.get $v1) (i64.const 1)) (i64.rotl (local.get $v2) (i64.const 7)))
                               (i64.add (i64.rotl (local.get $v3) (i64.const 12)) (i64.rotl (local.get $v4) (i64.const 18)))))
        (local.set $h (call $merge (local.get $h) (local.get $v1)))
        (local.set $h (call $merge (local.get $h) (local.get $v2)))
        (local.set $h (call $merge (local.get $h) (local.get $v3)))
        (local.set $h (call $merge (local.get $h) (local.get $v4))))
      (else (local.set $h (i64.add (local.get $seed) (global.get $P5)))))
    (local.set $h (i64.add (local.get $h) (i64.extend_i32_u (local.get $len))))
    (block $done8 (loop $words
      (br_if $done8 (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $end)))
      (local.set $h (i64.xor (local.get $h) (call $round (i64.const 0) (i64.load (local.get $p)))))
      (local.set $h (i64.add (i64.mul (i64.rotl (local.get $h) (i64.const 27)) (global.get $P1)) (global.get $P4)))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (br $words)))
    (if (i32.le_u (i32.add (local.get $p) (i32.const 4)) (local.get $end))
      (then
        (local.set $h (i64.xor (local.get $h) (i64.mul (i64.load32_u (local.get $p)) (global.get $P1))))
        (local.set $h (i64.add (i64.mul (i64.rotl (local.get $h) (i64.const 23)) (global.get $P2)) (global.get $P3)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))))
    (block $done1 (loop $bytes
      (br_if $done1 (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $h (i64.xor (local.get $h) (i64.mul (i64.load8_u (local.get $p)) (global.get $P5))))
      (local.set $h (i64.mul (i64.rotl (local.get $h) (i64.const 11)) (global.get $P1)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $bytes)))
    (local.set $h (i64.mul (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 33))) (global.get $P2)))
    (local.set $h (i64.mul (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 29))) (global.get $P3)))
    (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 32))))

  ;; Table k (k = 0..7) holds 256 u32 at byte offset k * 1024.
  (func $t (param $k i32) (param $i i32) (result i32)
    (i32.load (i32.add (i32.shl (local.get $k) (i32.const 10)) (i32.shl (local.get $i) (i32.const 2)))))

  (func $crc32c (export "crc32c") (param $p i32) (param $len i32) (result i32)
    (local $c i32) (local $a i32) (local $b i32) (local $end i32)
    (local.set $c (i32.const -1))
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (block $done8 (loop $words
      (br_if $done8 (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $end)))
      (local.set $a (i32.xor (local.get $c) (i32.load (local.get $p))))
      (local.set $b (i32.load offset=4 (local.get $p)))
      (local.set $c
        (i32.xor
          (i32.xor
            (i32.xor (i32.load offset=7168 (i32.shl (i32.and (local.get $a) (i32.const 255)) (i32.const 2)))
                     (i32.load offset=6144 (i32.shl (i32.and (i32.shr_u (local.get $a) (i32.const 8)) (i32.const 255)) (i32.const 2))))
            (i32.xor (i32.load offset=5120 (i32.shl (i32.and (i32.shr_u (local.get $a) (i32.const 16)) (i32.const 255)) (i32.const 2)))
                     (i32.load offset=4096 (i32.shl (i32.shr_u (local.get $a) (i32.const 24)) (i32.const 2)))))
          (i32.xor
            (i32.xor (i32.load offset=3072 (i32.shl (i32.and (local.get $b) (i32.const 255)) (i32.const 2)))
                     (i32.load offset=2048 (i32.shl (i32.and (i32.shr_u (local.get $b) (i32.const 8)) (i32.const 255)) (i32.const 2))))
            (i32.xor (i32.load offset=1024 (i32.shl (i32.and (i32.shr_u (local.get $b) (i32.const 16)) (i32.const 255)) (i32.const 2)))
                     (i32.load (i32.shl (i32.shr_u (local.get $b) (i32.const 24)) (i32.const 2)))))))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (br $words)))
    (block $done1 (loop $bytes
      (br_if $done1 (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $c (i32.xor
        (i32.load (i32.shl (i32.and (i32.xor (local.get $c) (i32.load8_u (local.get $p))) (i32.const 255)) (i32.const 2)))
        (i32.shr_u (local.get $c) (i32.const 8))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $bytes)))
    (i32.xor (local.get $c) (i32.const -1)))

  ;; A frame at SCRATCH whose payload (n bytes) is already at 8192 + 28: writes its header and returns the chain after it
  ;; (commits: xxh64 of seq and payload seeded with $prev; other types carry $prev).
  (func (export "encode") (param $type i32) (param $seqLo i32) (param $seqHi i32) (param $prev i64) (param $n i32) (result i64)
    (local $chain i64)
    (i32.store (i32.const 8192) (i32.add (local.get $n) (i32.const 20)))
    (i32.store (i32.const 8200) (local.get $type))
    (i32.store (i32.const 8212) (local.get $seqLo))
    (i32.store (i32.const 8216) (local.get $seqHi))
    (local.set $chain (local.get $prev))
    (if (i32.eq (local.get $type) (i32.const 1))
      (then (local.set $chain (call $xxh64 (i32.const 8212) (i32.add (local.get $n) (i32.const 8)) (local.get $prev)))))
    (i64.store (i32.const 8204) (local.get $chain))
    (i32.store (i32.const 8196) (call $crc32c (i32.const 8200) (i32.add (local.get $n) (i32.const 20))))
    (local.get $chain))
)
