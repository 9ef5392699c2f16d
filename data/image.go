package data

import (
	"fmt"
	"image"
	"os"
)

// LoadImage decodes one JPEG, PNG or GIF file and returns it as a model's
// input: float32 HWC values in [0, 1], resized to h×w with c channels. It
// reads and resizes as ImageFolder does (RGB, alpha dropped, the first
// frame of a GIF, an antialiased bilinear filter); c is 3 for that RGB, or
// 1 for grey, the luma 0.299 R + 0.587 G + 0.114 B (PIL's convert("L")),
// which leaves a grey image's values as they are. Nothing is inverted or
// normalised: an MNIST model wants white digits on black, as MNIST has
// them. Errors name the file.
func LoadImage(path string, h, w, c int) ([]float32, error) {
	if h < 1 || w < 1 || h > maxFolderSide || w > maxFolderSide {
		return nil, fmt.Errorf("data.LoadImage: size %dx%d is not within 1..%d", h, w, maxFolderSide)
	}
	if c != 1 && c != 3 {
		return nil, fmt.Errorf("data.LoadImage: %d channels: want 1 (grey) or 3 (RGB)", c)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fileError(path, "a folder, not an image file")
	}
	img, err := decodeImage(path)
	if err != nil {
		return nil, err
	}
	return imageInput(img, h, w, c), nil
}

// imageInput resizes img to h×w and returns it with c channels, as
// LoadImage does.
func imageInput(img image.Image, h, w, c int) []float32 {
	rgb := make([]float32, h*w*3)
	resampleImage(img, h, w, rgb)
	if c == 3 {
		return rgb
	}
	grey := make([]float32, h*w)
	for i := range grey {
		r, g, b := rgb[3*i], rgb[3*i+1], rgb[3*i+2]
		if r == g && g == b {
			grey[i] = r // exact for grey images, whatever the rounding below
			continue
		}
		grey[i] = 0.299*r + 0.587*g + 0.114*b
	}
	return grey
}
