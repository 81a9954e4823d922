package scheduler

import (
	"crypto/sha1"
	"encoding/binary"
	"math/bits"
)

// This file reproduces CPython's random.Random(seed).shuffle(list) for a
// non-negative integer seed below 2**32: MT19937 seeded with init_by_array,
// getrandbits(k) for k <= 32, _randbelow by rejection, and the
// Fisher-Yates loop of random.shuffle. cephadm shuffles its sorted
// candidate list this way, so the same service lands on the same hosts.

const (
	mtN         = 624
	mtM         = 397
	mtMatrixA   = 0x9908b0df
	mtUpperMask = 0x80000000
	mtLowerMask = 0x7fffffff
)

// mt19937 is the Mersenne Twister state used by CPython's random module.
type mt19937 struct {
	mt  [mtN]uint32 // state
	out [mtN]uint32 // tempered outputs of the current state
	idx int         // next index into out
}

// seedSHA1 returns cephadm's seed for a service name:
// int(sha1(name).hexdigest(), 16) % 2**32, i.e. the digest's last four
// bytes read big-endian.
func seedSHA1(serviceName string) uint32 {
	sum := sha1.Sum([]byte(serviceName))
	return binary.BigEndian.Uint32(sum[len(sum)-4:])
}

// seed initialises the generator as random.Random(seed) does for an int
// seed: init_by_array with the 32-bit words of abs(seed) ([0] for 0).
func (r *mt19937) seed(s uint32) {
	r.initByArray([]uint32{s})
}

func (r *mt19937) initGenrand(s uint32) {
	r.mt[0] = s
	for i := 1; i < mtN; i++ {
		prev := r.mt[i-1]
		r.mt[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	r.idx = mtN
}

func (r *mt19937) initByArray(key []uint32) {
	r.initGenrand(19650218)
	i, j := 1, 0
	k := mtN
	if len(key) > k {
		k = len(key)
	}
	for ; k > 0; k-- {
		prev := r.mt[i-1]
		r.mt[i] = (r.mt[i] ^ ((prev ^ (prev >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= mtN {
			r.mt[0] = r.mt[mtN-1]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k = mtN - 1; k > 0; k-- {
		prev := r.mt[i-1]
		r.mt[i] = (r.mt[i] ^ ((prev ^ (prev >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= mtN {
			r.mt[0] = r.mt[mtN-1]
			i = 1
		}
	}
	r.mt[0] = 0x80000000
	r.idx = mtN
}

// twist regenerates the state and fills out with the next mtN tempered
// outputs, so that drawing a number is one load.
func (r *mt19937) twist() {
	mt := &r.mt
	for kk := 0; kk < mtN-mtM; kk++ {
		y := (mt[kk] & mtUpperMask) | (mt[kk+1] & mtLowerMask)
		mt[kk] = mt[kk+mtM] ^ (y >> 1) ^ (-(y & 1) & mtMatrixA)
	}
	for kk := mtN - mtM; kk < mtN-1; kk++ {
		y := (mt[kk] & mtUpperMask) | (mt[kk+1] & mtLowerMask)
		mt[kk] = mt[kk+(mtM-mtN)] ^ (y >> 1) ^ (-(y & 1) & mtMatrixA)
	}
	y := (mt[mtN-1] & mtUpperMask) | (mt[0] & mtLowerMask)
	mt[mtN-1] = mt[mtM-1] ^ (y >> 1) ^ (-(y & 1) & mtMatrixA)
	out := &r.out
	for k, y := range mt {
		y ^= y >> 11
		y ^= (y << 7) & 0x9d2c5680
		y ^= (y << 15) & 0xefc60000
		y ^= y >> 18
		out[k] = y
	}
	r.idx = 0
}

// uint32 is genrand_uint32.
func (r *mt19937) uint32() uint32 {
	if r.idx >= mtN {
		r.twist()
	}
	v := r.out[r.idx%mtN]
	r.idx++
	return v
}

// randBelow is CPython's _randbelow_with_getrandbits for 0 < n <= 2**32:
// draw getrandbits(n.bit_length()) until the value is below n.
func (r *mt19937) randBelow(n uint32) uint32 {
	shift := uint(32 - bits.Len32(n))
	for {
		if v := r.uint32() >> shift; v < n {
			return v
		}
	}
}

// shuffle permutes x exactly as random.Random(seed).shuffle(x) would:
// for i from len(x)-1 down to 1, swap x[i] with x[randBelow(i+1)]. The
// generator is inlined here because a large candidate list costs one draw
// or more per element.
func shuffle[T any](x []T, seed uint32) {
	if len(x) < 2 {
		return
	}
	var r mt19937
	r.seed(seed)
	out := &r.out
	idx := r.idx
	for i := len(x) - 1; i > 0; i-- {
		n := uint32(i + 1)
		shift := uint(32 - bits.Len32(n))
		var j uint32
		for {
			if idx >= mtN {
				r.twist()
				idx = 0
			}
			j = out[idx] >> shift
			idx++
			if j < n {
				break
			}
		}
		x[i], x[j] = x[j], x[i]
	}
}
