package store

import (
	"context"
	"time"
)

// UnfiledPhotoAge is how long the media store keeps a photo that no filed complaint
// holds (a draft cancelled, a photo sent outside a complaint): UU PDP asks to keep
// only what a purpose needs. Privacy's note of a conversation's photos lives a little
// longer (photoNoteTTL), so an erase finds every photo still on disk.
const UnfiledPhotoAge = 24 * time.Hour

// PrunePhotos removes from media the photos older than UnfiledPhotoAge that no filed
// complaint holds, and returns how many it removed. A photo whose complaint cannot be
// looked up now is kept for the next time.
func (c *Complaints) PrunePhotos(ctx context.Context, media *Media) (int, error) {
	return media.Prune(UnfiledPhotoAge, func(name string) (bool, error) { return c.PhotoKept(ctx, name) })
}
