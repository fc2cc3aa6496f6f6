//! Web Mercator tile coordinates (the OSM XYZ scheme: origin top-left,
//! y growing south) and the projection of EPSG:4326 and EPSG:3857 into a
//! tile's integer grid.

use std::f64::consts::PI;

use crate::geometry::Bbox;

/// Deepest zoom served. 2^30 tiles a side still fit a u32 and keep
/// world coordinates exact in f64.
pub const MAX_ZOOM: u8 = 30;
/// Latitude limit of Web Mercator, degrees.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;
/// Half the Web Mercator world width, metres.
const HALF_WORLD_M: f64 = 20_037_508.342_789_244;

/// A tile address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileCoord {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

/// Why a tile address is not in the tile matrix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    #[error("zoom {0} is beyond the deepest zoom {MAX_ZOOM}")]
    Zoom(u32),
    #[error("tile {x}/{y} is outside zoom {z}, whose tiles run 0 to {max}")]
    Outside { z: u8, x: u64, y: u64, max: u64 },
}

impl TileCoord {
    /// Checks the address against the tile matrix.
    pub fn new(z: u32, x: u64, y: u64) -> Result<TileCoord, TileError> {
        if z > MAX_ZOOM as u32 {
            return Err(TileError::Zoom(z));
        }
        let z = z as u8;
        let max = (1u64 << z) - 1;
        if x > max || y > max {
            return Err(TileError::Outside { z, x, y, max });
        }
        Ok(TileCoord {
            z,
            x: x as u32,
            y: y as u32,
        })
    }

    /// Tiles a side at this zoom.
    pub fn scale(&self) -> f64 {
        (1u64 << self.z) as f64
    }

    /// The tile's box in EPSG:4326, grown by `buffer` of `extent` units on
    /// every side (clamped to the Mercator world).
    pub fn lonlat_bbox(&self, extent: u32, buffer: u32) -> Bbox {
        let grow = buffer as f64 / extent as f64;
        let n = self.scale();
        let (x0, x1) = ((self.x as f64 - grow) / n, (self.x as f64 + 1.0 + grow) / n);
        let (y0, y1) = ((self.y as f64 - grow) / n, (self.y as f64 + 1.0 + grow) / n);
        Bbox::new(
            world_x_to_lon(x0.max(0.0)),
            world_y_to_lat(y1.min(1.0)),
            world_x_to_lon(x1.min(1.0)),
            world_y_to_lat(y0.max(0.0)),
        )
    }
}

/// Longitude to world x in [0, 1].
pub fn lon_to_world_x(lon: f64) -> f64 {
    (lon + 180.0) / 360.0
}

/// Latitude to world y in [0, 1], 0 at the north edge.
pub fn lat_to_world_y(lat: f64) -> f64 {
    // atanh(sin φ) is ln(tan φ + sec φ) with one transcendental less.
    let s = lat.clamp(-MAX_LAT, MAX_LAT).to_radians().sin();
    0.5 - ((1.0 + s) / (1.0 - s)).ln() / (4.0 * PI)
}

pub fn world_x_to_lon(x: f64) -> f64 {
    x * 360.0 - 180.0
}

pub fn world_y_to_lat(y: f64) -> f64 {
    (PI * (1.0 - 2.0 * y)).sinh().atan().to_degrees()
}

/// EPSG:3857 metres to world coordinates.
pub fn mercator_to_world(x: f64, y: f64) -> (f64, f64) {
    (
        (x / HALF_WORLD_M + 1.0) / 2.0,
        (1.0 - y / HALF_WORLD_M) / 2.0,
    )
}

/// EPSG:3857 metres to degrees.
pub fn mercator_to_lonlat(x: f64, y: f64) -> (f64, f64) {
    let (wx, wy) = mercator_to_world(x, y);
    (world_x_to_lon(wx), world_y_to_lat(wy))
}

/// Maps world coordinates into one tile's grid of `extent` units.
///
/// Latitudes near the tile go through a Taylor polynomial of the
/// Mercator function about the tile's middle latitude instead of a sine
/// and a logarithm: four multiply-adds a vertex. The polynomial is used
/// only within `near` degrees of that latitude, a distance chosen so that
/// its error stays under a millionth of a tile unit; farther latitudes
/// (the far ends of long features) take the exact formula.
#[derive(Debug, Clone, Copy)]
pub struct TileProjection {
    scale: f64,
    x: f64,
    y: f64,
    extent: f64,
    /// Middle latitude of the tile, degrees, and its tile y.
    lat0: f64,
    y0: f64,
    /// Taylor coefficients of tile y in powers of degrees from `lat0`.
    a: [f64; 4],
    /// Degrees from `lat0` within which the polynomial is used.
    near: f64,
}

/// Largest error allowed of the polynomial, tile units.
const SERIES_ERROR: f64 = 1e-6;

impl TileProjection {
    pub fn new(tile: TileCoord, extent: u32) -> TileProjection {
        let scale = tile.scale();
        let mut p = TileProjection {
            scale,
            x: tile.x as f64,
            y: tile.y as f64,
            extent: extent as f64,
            lat0: 0.0,
            y0: 0.0,
            a: [0.0; 4],
            near: 0.0,
        };
        let lat0 = world_y_to_lat((tile.y as f64 + 0.5) / scale);
        let phi = lat0.to_radians();
        let (sec, tan) = (1.0 / phi.cos(), phi.tan());
        let t2 = tan * tan;
        // Tile units per unit of Mercator y (ln tan(π/4 + φ/2)), negative
        // because tile y grows southwards.
        let k = -scale * p.extent / (2.0 * PI);
        let d = PI / 180.0;
        // Derivatives of the Mercator y in φ: sec φ, sec φ tan φ,
        // sec φ (1 + 2 tan² φ), sec φ tan φ (5 + 6 tan² φ).
        let derivatives = [
            sec,
            sec * tan,
            sec * (1.0 + 2.0 * t2),
            sec * tan * (5.0 + 6.0 * t2),
        ];
        let factorials = [1.0, 2.0, 6.0, 24.0];
        for i in 0..4 {
            p.a[i] = k * derivatives[i] / factorials[i] * d.powi(i as i32 + 1);
        }
        // The first term left out, sec φ (5 + 28 tan² φ + 24 tan⁴ φ) h⁵ / 120,
        // bounded at a latitude 0.1 rad poleward of the middle (beyond any
        // `near` below): |k| y5 h⁵ / 120 ≤ SERIES_ERROR gives h.
        let far = (phi.abs() + 0.1).min(MAX_LAT.to_radians());
        let (sec_f, t2_f) = (1.0 / far.cos(), far.tan().powi(2));
        let y5 = sec_f * (5.0 + 28.0 * t2_f + 24.0 * t2_f * t2_f);
        let h = (SERIES_ERROR * 120.0 / (k.abs() * y5)).powf(0.2).min(0.1);
        let near = h.to_degrees();
        if lat0.abs() + near < MAX_LAT {
            p.lat0 = lat0;
            p.y0 = (lat_to_world_y(lat0) * scale - p.y) * p.extent;
            p.near = near;
        }
        p
    }

    /// World coordinates to tile units (f64, not yet rounded).
    pub fn world(&self, wx: f64, wy: f64) -> (f64, f64) {
        (
            (wx * self.scale - self.x) * self.extent,
            (wy * self.scale - self.y) * self.extent,
        )
    }

    /// Degrees to tile units.
    #[inline]
    pub fn lonlat(&self, lon: f64, lat: f64) -> (f64, f64) {
        let x = (lon_to_world_x(lon) * self.scale - self.x) * self.extent;
        let h = lat - self.lat0;
        let y = if h.abs() < self.near {
            let [a1, a2, a3, a4] = self.a;
            self.y0 + h * (a1 + h * (a2 + h * (a3 + h * a4)))
        } else {
            (lat_to_world_y(lat) * self.scale - self.y) * self.extent
        };
        (x, y)
    }

    /// Degrees to tile units by the exact formula alone.
    pub fn lonlat_exact(&self, lon: f64, lat: f64) -> (f64, f64) {
        self.world(lon_to_world_x(lon), lat_to_world_y(lat))
    }

    /// Tile units per degree of longitude: for sizing envelopes.
    pub fn units_per_degree_lon(&self) -> f64 {
        self.scale * self.extent / 360.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_bounds_are_checked() {
        assert!(TileCoord::new(0, 0, 0).is_ok());
        assert!(TileCoord::new(0, 1, 0).is_err());
        assert!(TileCoord::new(24, (1 << 24) - 1, 5).is_ok());
        assert_eq!(TileCoord::new(31, 0, 0), Err(TileError::Zoom(31)));
    }

    #[test]
    fn hanoi_is_in_the_expected_tile() {
        // Hoan Kiem lake, 105.8526 E 21.0285 N, is in z14 tile 13009/7212
        // (the OSM formula, computed independently).
        let (lon, lat) = (105.8526, 21.0285);
        let n = 16384.0;
        let x = (lon_to_world_x(lon) * n).floor();
        let y = (lat_to_world_y(lat) * n).floor();
        assert_eq!((x, y), (13009.0, 7212.0));
        let p = TileProjection::new(TileCoord::new(14, 13009, 7212).unwrap(), 4096);
        let (tx, ty) = p.lonlat(lon, lat);
        assert!((0.0..4096.0).contains(&tx) && (0.0..4096.0).contains(&ty));
    }

    #[test]
    fn the_polynomial_matches_the_exact_projection() {
        // Every zoom, latitudes from the equator to near the pole, points
        // across the tile and far beyond it (exact formula there).
        let mut used = 0;
        for z in 0..=MAX_ZOOM as u32 {
            for lat in [
                -84.0, -60.0, -21.0, 0.0, 8.5, 10.8, 21.03, 23.4, 45.0, 70.0, 85.0,
            ] {
                let n = 1u64 << z;
                let y = ((lat_to_world_y(lat) * n as f64) as u64).min(n - 1);
                let t = TileCoord::new(z, 0, y).unwrap();
                let p = TileProjection::new(t, 4096);
                let b = t.lonlat_bbox(4096, 0);
                let span = b.max_y - b.min_y;
                // The exact formula itself rounds world y (about 0.5,
                // through a logarithm of 1 - sin φ) to f64 before scaling
                // it by 2^z × 4096 units.
                let tolerance = 2.0 * SERIES_ERROR + 4e-15 * n as f64 * 4096.0;
                for k in -40..=40 {
                    let la = (b.min_y + span * (0.5 + k as f64 / 20.0)).clamp(-MAX_LAT, MAX_LAT);
                    let (_, fast) = p.lonlat(0.0, la);
                    let (_, exact) = p.lonlat_exact(0.0, la);
                    if (la - p.lat0).abs() < p.near {
                        used += 1;
                        assert!(
                            (fast - exact).abs() <= tolerance,
                            "z{z} lat {la}: {fast} vs {exact}"
                        );
                    } else {
                        assert_eq!(fast, exact);
                    }
                }
            }
        }
        assert!(used > 5000, "the polynomial was used for {used} points");
    }

    #[test]
    fn lat_round_trips() {
        for lat in [-80.0, -21.0, 0.0, 10.5, 23.4] {
            assert!((world_y_to_lat(lat_to_world_y(lat)) - lat).abs() < 1e-9);
        }
        let (lon, lat) = mercator_to_lonlat(11_784_000.0, 2_391_000.0);
        assert!(
            (lon - 105.857).abs() < 0.001 && (lat - 20.993).abs() < 0.001,
            "{lon} {lat}"
        );
    }
}
