package weights

import (
	"encoding/binary"
	"math"
)

// dtypes maps the safetensors dtypes fovea reads to their sizes in
// bytes. Everything is converted to float32 on load; only F32 is
// written.
var dtypes = map[string]int{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2,
	"I64": 8, "I32": 4, "I16": 2, "I8": 1,
	"U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1,
}

// decode converts raw little-endian values of dtype dt into dst, which
// holds len(raw)/size of them.
func decode(dst []float32, raw []byte, dt string) {
	le := binary.LittleEndian
	switch dt {
	case "F32":
		for i := range dst {
			dst[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
	case "F64":
		for i := range dst {
			dst[i] = float32(math.Float64frombits(le.Uint64(raw[8*i:])))
		}
	case "F16":
		for i := range dst {
			dst[i] = halfToFloat(le.Uint16(raw[2*i:]))
		}
	case "BF16":
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(le.Uint16(raw[2*i:])) << 16)
		}
	case "I64":
		for i := range dst {
			dst[i] = float32(int64(le.Uint64(raw[8*i:])))
		}
	case "I32":
		for i := range dst {
			dst[i] = float32(int32(le.Uint32(raw[4*i:])))
		}
	case "I16":
		for i := range dst {
			dst[i] = float32(int16(le.Uint16(raw[2*i:])))
		}
	case "I8":
		for i := range dst {
			dst[i] = float32(int8(raw[i]))
		}
	case "U64":
		for i := range dst {
			dst[i] = float32(le.Uint64(raw[8*i:]))
		}
	case "U32":
		for i := range dst {
			dst[i] = float32(le.Uint32(raw[4*i:]))
		}
	case "U16":
		for i := range dst {
			dst[i] = float32(le.Uint16(raw[2*i:]))
		}
	case "U8", "BOOL":
		for i := range dst {
			dst[i] = float32(raw[i])
		}
	default:
		panic("weights: decode of unchecked dtype " + dt)
	}
}

// halfToFloat converts an IEEE 754 half-precision value to float32,
// exactly (every half is a float32).
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	case frac == 0: // ±0
		return math.Float32frombits(sign)
	}
	// Subnormal: frac·2^-24.
	v := float32(frac) / (1 << 24)
	if sign != 0 {
		v = -v
	}
	return v
}
