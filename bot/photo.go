package bot

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png" // PNG photos are sent as they are, but their header is read
	"io"

	_ "golang.org/x/image/webp" // WebP photos are turned into JPEG
)

// MaxCaption is the longest caption sent with a photo on the platforms that take
// one (WhatsApp allows 1,024 characters); a longer text goes as a message of its
// own.
const MaxCaption = 1024

// SendablePhoto reads a photo for a platform that takes JPEG and PNG only (WhatsApp):
// a JPEG or PNG comes back as it is, any other image Go decodes (WebP) as a JPEG.
// At most MaxPhotoSize bytes are read; anything that is not such an image is an
// error wrapping ErrFileRefused.
func SendablePhoto(r io.Reader) (data []byte, mime string, err error) {
	data, err = io.ReadAll(io.LimitReader(r, MaxPhotoSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("read photo: %w", err)
	}
	if len(data) > MaxPhotoSize {
		return nil, "", fmt.Errorf("photo over %d bytes: %w", MaxPhotoSize, ErrFileRefused)
	}
	_, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("photo not readable: %w", ErrFileRefused)
	}
	switch format {
	case "jpeg":
		return data, "image/jpeg", nil
	case "png":
		return data, "image/png", nil
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("decode %s photo: %w", format, ErrFileRefused)
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: 90}); err != nil {
		return nil, "", fmt.Errorf("turn %s photo into JPEG: %w", format, err)
	}
	return out.Bytes(), "image/jpeg", nil
}
