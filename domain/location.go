package domain

// Location is a point on earth in degrees (WGS 84).
type Location struct {
	Lat, Lon float64
}
