//! The land-use planning style (MapLibre style specification, version 8),
//! built from the land-use table so that colours and legend follow the
//! regulation's data, never hand-edited copies of it.
//!
//! It fills zones and parcels by `ma_dat` with the official colours,
//! outlines parcels, draws rivers, roads (width by class) and commune
//! boundaries, labels zones, parcels, roads, communes and facilities, and
//! carries the legend in its metadata (`plantiles:legend`). It uses only
//! expressions QGIS's style converter understands (`match` on a property,
//! `interpolate` on zoom with constant stops), so the same URL styles a
//! QGIS Vector Tiles connection.

use serde_json::{json, Value};

use crate::landuse::TABLE;

/// Fonts for labels. Text needs glyph PBFs; `glyphs` points at a public
/// glyph server, and a deployment without internet hosts its own and
/// changes that URL.
const FONT: &str = "Open Sans Semibold";
const GLYPHS: &str = "https://demotiles.maplibre.org/font/{fontstack}/{range}.pbf";

/// The TileJSON URL of the bundled sample on the default address; the
/// server points styles at itself when it serves them.
pub const SAMPLE_TILEJSON: &str = "http://127.0.0.1:3000/tiles/sample";

/// Fill layers of one source layer, one per colour of the table: each
/// draws the codes of that colour, and a last one draws unknown codes
/// grey. One layer per colour with a legacy `in` filter, rather than one
/// `match` expression, because QGIS's style converter reads these filters
/// reliably and MapLibre reads both.
fn landuse_fills(source_layer: &str, zoom: (u8, u8), opacity: f64) -> Vec<Value> {
    let mut colours: Vec<String> = Vec::new();
    for row in TABLE {
        if !colours.contains(&row.hex()) {
            colours.push(row.hex());
        }
    }
    let layer = |id: String, filter: Value, colour: &str| {
        json!({"id": id, "type": "fill", "source": "planning", "source-layer": source_layer,
               "minzoom": zoom.0, "maxzoom": zoom.1, "filter": filter,
               "paint": {"fill-color": colour, "fill-opacity": opacity}})
    };
    let mut out: Vec<Value> = colours
        .iter()
        .map(|hex| {
            let mut filter = vec![json!("in"), json!("ma_dat")];
            filter.extend(
                TABLE
                    .iter()
                    .filter(|r| &r.hex() == hex)
                    .map(|r| json!(r.code)),
            );
            layer(
                format!("{source_layer}-fill-{}", &hex[1..]),
                Value::Array(filter),
                hex,
            )
        })
        .collect();
    let mut unknown = vec![json!("!in"), json!("ma_dat")];
    unknown.extend(TABLE.iter().map(|r| json!(r.code)));
    out.push(layer(
        format!("{source_layer}-fill-unknown"),
        Value::Array(unknown),
        "#d9d9d9",
    ));
    out
}

fn legend() -> Value {
    TABLE
        .iter()
        .map(|row| json!({"code": row.code, "name": row.name, "color": row.hex()}))
        .collect()
}

/// The style, its vector source at the TileJSON URL `tilejson`.
pub fn planning(tilejson: &str) -> Value {
    let mut style = lines_and_labels(tilejson);
    if let Some(layers) = style["layers"].as_array_mut() {
        let fills: Vec<Value> = landuse_fills("zones", (0, 14), 0.85)
            .into_iter()
            .chain(landuse_fills("parcels", (14, 24), 0.9))
            .collect();
        layers.splice(1..1, fills);
    }
    style
}

/// The style without its land-use fills.
fn lines_and_labels(tilejson: &str) -> Value {
    let text = |field: &str, size: f64| {
        json!({
            "text-field": ["get", field],
            "text-font": [FONT],
            "text-size": size,
        })
    };
    let halo =
        json!({"text-color": "#333333", "text-halo-color": "#ffffff", "text-halo-width": 1.2});
    json!({
        "version": 8,
        "name": "Quy hoạch sử dụng đất",
        "metadata": {"plantiles:legend": legend()},
        "glyphs": GLYPHS,
        "sources": {"planning": {"type": "vector", "url": tilejson}},
        "layers": [
            {"id": "background", "type": "background", "paint": {"background-color": "#f7f5f0"}},
            {"id": "zones-outline", "type": "line", "source": "planning", "source-layer": "zones",
             "paint": {"line-color": "#8c7b6b", "line-width": 0.6}},
            {"id": "parcels-outline", "type": "line", "source": "planning", "source-layer": "parcels",
             "minzoom": 15,
             "paint": {"line-color": "#7a6a5a",
                       "line-width": ["interpolate", ["linear"], ["zoom"], 15, 0.3, 19, 1.2]}},
            {"id": "rivers", "type": "line", "source": "planning", "source-layer": "rivers",
             "paint": {"line-color": "#6cb6e6",
                       "line-width": ["interpolate", ["linear"], ["zoom"], 8, 1.0, 16, 8.0]}},
            {"id": "roads-casing", "type": "line", "source": "planning", "source-layer": "roads",
             "layout": {"line-cap": "round", "line-join": "round"},
             "paint": {"line-color": "#b35900",
                       "line-width": ["interpolate", ["linear"], ["zoom"], 8, 1.0, 18, 14.0]}},
            {"id": "roads", "type": "line", "source": "planning", "source-layer": "roads",
             "layout": {"line-cap": "round", "line-join": "round"},
             "paint": {"line-color": ["match", ["get", "cap_duong"],
                                      "quoc_lo", "#f28c28", "duong_tinh", "#fbbf5a", "#ffffff"],
                       "line-width": ["interpolate", ["linear"], ["zoom"], 8, 0.5, 18, 11.0]}},
            {"id": "communes", "type": "line", "source": "planning", "source-layer": "communes",
             "paint": {"line-color": "#c0392b", "line-width": 1.5, "line-dasharray": [4, 2]}},
            {"id": "facilities", "type": "circle", "source": "planning", "source-layer": "facilities",
             "paint": {"circle-radius": 5, "circle-color": "#ffffff",
                       "circle-stroke-color": "#c0392b", "circle-stroke-width": 2}},
            {"id": "zones-label", "type": "symbol", "source": "planning", "source-layer": "zones",
             "minzoom": 13, "maxzoom": 16, "layout": text("ma_dat", 11.0), "paint": halo.clone()},
            {"id": "parcels-label", "type": "symbol", "source": "planning", "source-layer": "parcels",
             "minzoom": 17, "layout": text("ma_dat", 10.0), "paint": halo.clone()},
            {"id": "roads-label", "type": "symbol", "source": "planning", "source-layer": "roads",
             "minzoom": 14,
             "layout": {"symbol-placement": "line", "text-field": ["get", "ten_duong"],
                        "text-font": [FONT], "text-size": 11},
             "paint": halo.clone()},
            {"id": "communes-label", "type": "symbol", "source": "planning", "source-layer": "communes",
             "maxzoom": 14, "layout": text("ten_xa", 13.0), "paint": halo.clone()},
            {"id": "facilities-label", "type": "symbol", "source": "planning",
             "source-layer": "facilities", "minzoom": 15,
             "layout": {"text-field": ["get", "ten"], "text-font": [FONT], "text-size": 11,
                        "text-offset": [0, 1.2], "text-anchor": "top"},
             "paint": halo}
        ]
    })
}

/// The style as the text shipped in `styles/planning.json`.
pub fn planning_text(tilejson: &str) -> String {
    let mut s = serde_json::to_string_pretty(&planning(tilejson)).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_colour_and_legend_row() {
        let style = planning("http://x/tiles/sample");
        let layers = style["layers"].as_array().expect("layers");
        for source in ["zones", "parcels"] {
            for row in TABLE {
                let drawn_by: Vec<&Value> = layers
                    .iter()
                    .filter(|l| l["source-layer"] == source && l["type"] == "fill")
                    .filter(|l| {
                        l["filter"][0] == "in"
                            && l["filter"]
                                .as_array()
                                .is_some_and(|f| f[2..].contains(&json!(row.code)))
                    })
                    .collect();
                assert_eq!(drawn_by.len(), 1, "{source} {}", row.code);
                assert_eq!(drawn_by[0]["paint"]["fill-color"], row.hex());
            }
        }
        assert_eq!(
            style["metadata"]["plantiles:legend"]
                .as_array()
                .map(Vec::len),
            Some(TABLE.len())
        );
        assert_eq!(style["sources"]["planning"]["url"], "http://x/tiles/sample");
    }

    /// MapLibre's own validator accepts the shipped style.
    #[test]
    #[ignore = "needs gl-style-validate (npm @maplibre/maplibre-gl-style-spec); .ci/run runs it"]
    fn maplibre_validates_the_style() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/styles/planning.json");
        let out = std::process::Command::new("gl-style-validate")
            .arg(path)
            .output()
            .expect("gl-style-validate on PATH");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && text.trim().is_empty(), "{text}");
    }

    #[test]
    fn shipped_style_matches_the_table() {
        let shipped =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/styles/planning.json"))
                .unwrap_or_default();
        assert!(
            shipped == planning_text(SAMPLE_TILEJSON),
            "styles/planning.json drifted from the land-use table; rewrite it with \
             `plantiles style --out styles/planning.json`"
        );
    }
}
