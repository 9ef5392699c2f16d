package data

import (
	"image"
	"io"
)

// DecodeImage decodes the JPEG, PNG or GIF image of size bytes in r,
// within the bounds ImageFolder keeps (MaxImagePixels, and the decoding
// memory within MaxImageExpansion of size, checked from the header before
// anything is allocated): how a server decodes a request body. name
// names the image in errors.
func DecodeImage(name string, r io.ReadSeeker, size int64) (image.Image, error) {
	return decodeImageFrom(name, r, size)
}

// ImageInput resizes img to h×w and returns it as a model's input with
// c channels (3 for RGB, 1 for grey), as LoadImage does.
func ImageInput(img image.Image, h, w, c int) []float32 { return imageInput(img, h, w, c) }
