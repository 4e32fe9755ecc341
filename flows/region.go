package flows

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"github.com/layan-id/layan/domain"
	"go.yaml.in/yaml/v3"
)

// Region is what the flows know about the region besides texts (locales/region.yaml).
type Region struct {
	BBox       BBox     `yaml:"bbox"`
	Categories []string `yaml:"complaint_categories"`
	Topics     []string `yaml:"topics"`
	// Delivery is the guarantee of a topic's broadcasts when a process dies in the
	// middle of a send (domain.Guarantee); a topic not named is at most once.
	Delivery map[string]domain.Guarantee `yaml:"delivery"`
	// OfficeHours is when staff answer people who ask for a person, in TZ_REGION
	// ("mon-fri 08:00-16:00; sat 08:00-12:00" or "always"); OFFICE_HOURS overrides it.
	OfficeHours string `yaml:"office_hours"`
	// Holidays are the dates (2026-12-25) the offices are closed: holidays.yaml (and,
	// as before it existed, region.yaml's own list). Office hours and the complaint
	// deadlines read this one list (Calendar).
	Holidays []string `yaml:"holidays"`
	// Agencies are the agencies (OPD) that act on complaints.
	Agencies []domain.Agency `yaml:"agencies"`
	// Routing maps a complaint category to the code of the agency that acts on it.
	Routing map[string]string `yaml:"routing"`
}

// BBox is a region's extent in degrees.
type BBox struct {
	South float64 `yaml:"south"`
	West  float64 `yaml:"west"`
	North float64 `yaml:"north"`
	East  float64 `yaml:"east"`
}

// Contains reports whether l lies in the box, with a margin of about 10 km: a
// person at the border is not questioned.
func (b BBox) Contains(l domain.Location) bool {
	const margin = 0.1
	return l.Lat >= b.South-margin && l.Lat <= b.North+margin && l.Lon >= b.West-margin && l.Lon <= b.East+margin
}

// LoadRegion reads region.yaml from content.
func LoadRegion(content fs.FS) (Region, error) {
	var r Region
	b, err := fs.ReadFile(content, "region.yaml")
	if err != nil {
		return r, fmt.Errorf("flows: read region.yaml: %w", err)
	}
	if err := yaml.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("flows: region.yaml: %w", err)
	}
	holidays, err := loadHolidays(content)
	if err != nil {
		return r, err
	}
	r.Holidays = append(r.Holidays, holidays...)
	if _, err := r.Calendar(nil); err != nil {
		return r, fmt.Errorf("flows: holidays: %w", err)
	}
	if len(r.Categories) == 0 {
		return r, fmt.Errorf("flows: region.yaml: no complaint_categories")
	}
	if len(r.Topics) == 0 {
		return r, fmt.Errorf("flows: region.yaml: no topics")
	}
	for topic, g := range r.Delivery {
		if !slices.Contains(r.Topics, topic) {
			return r, fmt.Errorf("flows: region.yaml: delivery names %q, which is not a topic", topic)
		}
		if _, ok := domain.ParseGuarantee(string(g)); !ok {
			return r, fmt.Errorf("flows: region.yaml: delivery of %s: %q is neither at_most_once nor at_least_once", topic, g)
		}
	}
	if _, err := r.Hours("", nil); err != nil {
		return r, fmt.Errorf("flows: region.yaml: %w", err)
	}
	if err := r.checkAgencies(); err != nil {
		return r, fmt.Errorf("flows: region.yaml: %w", err)
	}
	if r.BBox.South >= r.BBox.North || r.BBox.West >= r.BBox.East {
		return r, fmt.Errorf("flows: region.yaml: bbox must have south < north and west < east")
	}
	return r, nil
}

// loadHolidays reads holidays.yaml from content; none there is no holidays.
func loadHolidays(content fs.FS) ([]string, error) {
	b, err := fs.ReadFile(content, "holidays.yaml")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("flows: read holidays.yaml: %w", err)
	}
	var f struct {
		Holidays []string `yaml:"holidays"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("flows: holidays.yaml: %w", err)
	}
	return f.Holidays, nil
}

// Calendar returns the region's working days in loc: Monday to Friday minus the
// holidays.
func (r Region) Calendar(loc *time.Location) (domain.Calendar, error) {
	return domain.NewCalendar(loc, r.Holidays)
}

// Hours returns the office hours: spec (OFFICE_HOURS) when it is not empty, else the
// content's office_hours, else DefaultOfficeHours; with the content's holidays, in loc.
func (r Region) Hours(spec string, loc *time.Location) (OfficeHours, error) {
	if spec == "" {
		spec = r.OfficeHours
	}
	if spec == "" {
		spec = DefaultOfficeHours
	}
	return ParseOfficeHours(spec, r.Holidays, loc)
}

// checkAgencies reports an agency without a code or name, a code used twice, or a
// routing entry whose category or agency is unknown.
func (r Region) checkAgencies() error {
	codes := map[string]bool{}
	for i, a := range r.Agencies {
		if a.Code == "" || a.Name == "" {
			return fmt.Errorf("agencies[%d] needs a code and a name", i)
		}
		if codes[a.Code] {
			return fmt.Errorf("agency code %q appears twice", a.Code)
		}
		codes[a.Code] = true
	}
	for cat, code := range r.Routing {
		if !slices.Contains(r.Categories, cat) {
			return fmt.Errorf("routing: %q is not one of complaint_categories", cat)
		}
		if !codes[code] {
			return fmt.Errorf("routing: %s goes to %q, which is not in agencies", cat, code)
		}
	}
	return nil
}

// Agency returns the agency with the given code.
func (r Region) Agency(code string) (domain.Agency, bool) {
	for _, a := range r.Agencies {
		if a.Code == code {
			return a, true
		}
	}
	return domain.Agency{}, false
}
