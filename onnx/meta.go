package onnx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/foveaml/fovea/onnx/onnxpb"
)

// The ModelProto fields LoadMetadata keeps: producer_name,
// producer_version and metadata_props.
var metadataFields = map[protowire.Number]bool{2: true, 3: true, 14: true}

// maxMetadataField bounds one kept field of LoadMetadata's: a name, a
// version or one key and value.
const maxMetadataField = 64 << 20

// LoadMetadata returns the metadata of the ONNX model at path, as
// Model.Metadata gives it, without compiling the graph or reading it:
// it reads the model's top-level fields' headers and the metadata, and
// seeks past the rest (the graph and its weights), so that a large
// model's description costs a few kilobytes of reading.
func LoadMetadata(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("onnx: %v", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("onnx: %s is not a regular file", path)
	}
	kept, err := topFields(f, st.Size())
	mp := &pb.ModelProto{}
	if err == nil {
		err = (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(kept, mp)
	}
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: not an ONNX model: %v", path, err)
	}
	return metadataOf(mp), nil
}

// topFields walks the top-level fields of the ModelProto in f, of size
// bytes, and returns the metadataFields among them, encoded as they
// were; every other field is checked for its length and skipped. An
// empty file is no model.
func topFields(f io.ReadSeeker, size int64) ([]byte, error) {
	if size == 0 {
		return nil, errors.New("the file is empty")
	}
	br := bufio.NewReader(f)
	var pos int64
	varint := func() (uint64, error) {
		var v uint64
		for i := 0; i < 10; i++ {
			c, err := br.ReadByte()
			if err != nil {
				return 0, io.ErrUnexpectedEOF
			}
			pos++
			v |= uint64(c&0x7f) << (7 * i)
			if c < 0x80 {
				return v, nil
			}
		}
		return 0, errors.New("a varint of more than 10 bytes")
	}
	skip := func(n int64) error {
		if n > size-pos {
			return fmt.Errorf("a field of %d bytes at offset %d runs past the end of the %d-byte file", n, pos, size)
		}
		if n <= int64(br.Buffered()) {
			br.Discard(int(n))
		} else if _, err := f.Seek(pos+n, io.SeekStart); err != nil {
			return err
		} else {
			br.Reset(f)
		}
		pos += n
		return nil
	}
	var kept []byte
	for pos < size {
		tag, err := varint()
		if err != nil {
			return nil, err
		}
		num, typ := protowire.Number(tag>>3), protowire.Type(tag&7)
		if num < 1 {
			return nil, fmt.Errorf("field number 0 at offset %d", pos)
		}
		switch typ {
		case protowire.VarintType:
			if _, err := varint(); err != nil {
				return nil, err
			}
		case protowire.Fixed32Type:
			err = skip(4)
		case protowire.Fixed64Type:
			err = skip(8)
		case protowire.BytesType:
			n, err := varint()
			if err != nil {
				return nil, err
			}
			if n > uint64(size-pos) {
				return nil, fmt.Errorf("field %d of %d bytes at offset %d runs past the end of the %d-byte file", num, n, pos, size)
			}
			if !metadataFields[num] {
				if err := skip(int64(n)); err != nil {
					return nil, err
				}
				continue
			}
			if n > maxMetadataField {
				return nil, fmt.Errorf("field %d is %d bytes; the limit is %d", num, n, maxMetadataField)
			}
			b := make([]byte, n)
			if _, err := io.ReadFull(br, b); err != nil {
				return nil, io.ErrUnexpectedEOF
			}
			pos += int64(n)
			kept = protowire.AppendBytes(protowire.AppendTag(kept, num, typ), b)
		default:
			return nil, fmt.Errorf("wire type %d at offset %d", typ, pos)
		}
		if err != nil {
			return nil, err
		}
	}
	return kept, nil
}
