package bot

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// webp1x1 is a 1×1 lossless WebP.
var webp1x1 = []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")

func TestSendablePhoto(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	var pngData, jpegData bytes.Buffer
	png.Encode(&pngData, img)
	jpeg.Encode(&jpegData, img, nil)

	for _, tc := range []struct {
		name string
		in   []byte
		mime string
		same bool // sent byte for byte
	}{
		{"a JPEG goes as it is", jpegData.Bytes(), "image/jpeg", true},
		{"a PNG goes as it is", pngData.Bytes(), "image/png", true},
		{"a WebP, which WhatsApp shows only as a sticker, becomes a JPEG", webp1x1, "image/jpeg", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, mime, err := SendablePhoto(bytes.NewReader(tc.in))
			if err != nil || mime != tc.mime {
				t.Fatalf("got %s, %v; want %s", mime, err, tc.mime)
			}
			if tc.same != bytes.Equal(data, tc.in) {
				t.Errorf("sent the bytes as they are: %v, want %v", bytes.Equal(data, tc.in), tc.same)
			}
			if _, format, err := image.DecodeConfig(bytes.NewReader(data)); err != nil || "image/"+format != mime {
				t.Errorf("what is sent decodes as %q (%v), want %s", format, err, mime)
			}
		})
	}
	t.Run("what is no photo is refused", func(t *testing.T) {
		if _, _, err := SendablePhoto(bytes.NewReader([]byte("%PDF-1.4"))); !errors.Is(err, ErrFileRefused) {
			t.Errorf("got %v, want ErrFileRefused", err)
		}
	})
}
