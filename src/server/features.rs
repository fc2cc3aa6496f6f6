//! Feature endpoints: the planning lookup (`/features/{tileset}`) and
//! OGC API - Features Part 1 (Core) over the same layers.
//!
//! Collections are the layers of every tileset; a collection's id is
//! `{tileset}.{layer}` (for example `sample.parcels`). A feature's id is
//! the byte offset of the feature in its file: stable while the file is,
//! and checked against the index before it is used.

use std::collections::HashMap;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response};
use serde_json::{json, Value};

use super::routes::{bad_request, base_url, json_body, not_found, resolve, Body, Failure, Reply};
use super::State;
use crate::geometry::Bbox;
use crate::lookup::{at_point, feature_json, in_bbox, is_feature, properties_text};
use crate::tileset::{Tileset, TilesetLayer};

/// Most features one page may hold.
pub const MAX_LIMIT: usize = 10_000;
/// Page size of the lookup when `limit` is not given.
const LOOKUP_LIMIT: usize = 100;
/// Page size of OGC items when `limit` is not given (the standard's).
const ITEMS_LIMIT: usize = 10;
/// Largest tolerance a client may ask for, metres.
const MAX_TOLERANCE_M: f64 = 1_000.0;

/// Query parameters with a meaning of their own; any other parameter is
/// an equality filter on the column of that name.
const RESERVED: &[&str] = &[
    "lon",
    "lat",
    "bbox",
    "limit",
    "offset",
    "layers",
    "properties",
    "geometry",
    "f",
    "tolerance",
];

const GEOJSON: &str = "application/geo+json";
const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";
const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

fn query(req: &Request<Incoming>) -> Vec<(String, String)> {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// Parsed query parameters.
struct Params {
    all: HashMap<String, String>,
    filters: Vec<(String, String)>,
}

impl Params {
    fn new(req: &Request<Incoming>) -> Result<Params, Failure> {
        let mut all = HashMap::new();
        let mut filters = Vec::new();
        for (k, v) in query(req) {
            if RESERVED.contains(&k.as_str()) {
                if all.insert(k.clone(), v).is_some() {
                    return Err(bad_request(format!("parameter {k} is given twice")));
                }
            } else {
                filters.push((k, v));
            }
        }
        Ok(Params { all, filters })
    }

    fn number(&self, key: &str) -> Result<Option<f64>, Failure> {
        self.all
            .get(key)
            .map(|v| {
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| bad_request(format!("{key}={v:?} is not a number")))
            })
            .transpose()
    }

    fn count(&self, key: &str, default: usize, max: usize) -> Result<usize, Failure> {
        match self.all.get(key) {
            None => Ok(default),
            Some(v) => {
                let n: usize = v
                    .trim()
                    .parse()
                    .map_err(|_| bad_request(format!("{key}={v:?} is not a whole number")))?;
                if n > max {
                    return Err(bad_request(format!("{key}={n} is over the cap of {max}")));
                }
                Ok(n)
            }
        }
    }

    fn list(&self, key: &str) -> Option<Vec<String>> {
        self.all.get(key).map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
    }

    fn geometry(&self) -> Result<bool, Failure> {
        match self.all.get("geometry").map(String::as_str) {
            None | Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(v) => Err(bad_request(format!("geometry={v:?} must be true or false"))),
        }
    }

    fn bbox(&self) -> Result<Option<Bbox>, Failure> {
        let Some(text) = self.all.get("bbox") else {
            return Ok(None);
        };
        let n: Vec<f64> = text
            .split(',')
            .map(|s| s.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
            .collect::<Option<_>>()
            .ok_or_else(|| bad_request(format!("bbox={text:?} is not four numbers")))?;
        let [x0, y0, x1, y1] = n[..] else {
            return Err(bad_request(format!(
                "bbox={text:?} must be minlon,minlat,maxlon,maxlat"
            )));
        };
        if x0 > x1 || y0 > y1 {
            return Err(bad_request(format!(
                "bbox={text:?} is inverted: min above max"
            )));
        }
        if !(-180.0..=180.0).contains(&x0)
            || !(-180.0..=180.0).contains(&x1)
            || !(-90.0..=90.0).contains(&y0)
            || !(-90.0..=90.0).contains(&y1)
        {
            return Err(bad_request(format!(
                "bbox={text:?} is outside -180..180, -90..90"
            )));
        }
        Ok(Some(Bbox::new(x0, y0, x1, y1)))
    }
}

fn geojson(value: &Value) -> Response<Body> {
    let mut r = json_body(value);
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
    r
}

/// The layers of `tilesets` chosen by `layers=` (all when absent), with
/// their tileset.
fn chosen<'a>(
    tilesets: &'a [Arc<Tileset>],
    names: Option<&[String]>,
) -> Result<Vec<&'a TilesetLayer>, Failure> {
    let all: Vec<&TilesetLayer> = tilesets.iter().flat_map(|t| t.layers.iter()).collect();
    let Some(names) = names else {
        return Ok(all);
    };
    for n in names {
        if !all.iter().any(|l| &l.layer.name == n) {
            let known: Vec<&str> = all.iter().map(|l| l.layer.name.as_str()).collect();
            return Err(bad_request(format!(
                "no layer {n:?}; layers are {}",
                known.join(", ")
            )));
        }
    }
    Ok(all
        .into_iter()
        .filter(|l| names.contains(&l.layer.name))
        .collect())
}

/// Checks that every filter names a column of some layer.
fn check_filters(layers: &[&TilesetLayer], filters: &[(String, String)]) -> Result<(), Failure> {
    for (k, _) in filters {
        if !layers
            .iter()
            .any(|l| l.layer.columns.iter().any(|c| &c.name == k))
        {
            return Err(bad_request(format!(
                "unknown parameter {k:?}: neither a query parameter ({}) nor a column",
                RESERVED.join(", ")
            )));
        }
    }
    Ok(())
}

/// Whether a feature passes the equality filters (a layer without a
/// filtered column passes none of its features).
fn passes(tl: &TilesetLayer, offset: u64, filters: &[(String, String)]) -> bool {
    if filters.is_empty() {
        return true;
    }
    let Ok(props) = properties_text(&tl.layer, offset) else {
        return false;
    };
    filters.iter().all(|(k, want)| {
        props
            .iter()
            .any(|(c, v)| &tl.layer.columns[*c].name == k && v == want)
    })
}

/// `GET /features/{tileset}`: by point (`lon`, `lat`) or by `bbox`.
pub async fn lookup(state: &State, req: &Request<Incoming>, ids: &str) -> Reply {
    let tilesets = resolve(state, ids)?;
    let p = Params::new(req)?;
    let only = p.list("properties");
    let with_geometry = p.geometry()?;
    let names = p.list("layers");
    chosen(&tilesets, names.as_deref())?;
    let (lon, lat, bbox) = (p.number("lon")?, p.number("lat")?, p.bbox()?);
    match (lon, lat, bbox) {
        (Some(lon), Some(lat), None) => {
            if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                return Err(bad_request(format!(
                    "lon={lon}, lat={lat} is outside -180..180, -90..90"
                )));
            }
            if !p.filters.is_empty() {
                check_filters(&chosen(&tilesets, names.as_deref())?, &p.filters)?;
            }
            let tolerance = p
                .number("tolerance")?
                .unwrap_or(state.config.lookup_tolerance_m);
            if !(0.0..=MAX_TOLERANCE_M).contains(&tolerance) {
                return Err(bad_request(format!(
                    "tolerance={tolerance} must be 0 to {MAX_TOLERANCE_M} metres"
                )));
            }
            let filters = p.filters.clone();
            page_reply(state, move || {
                let layers = chosen(&tilesets, names.as_deref()).unwrap_or_default();
                let mut skipped = 0;
                let hits = at_point(&layers, lon, lat, tolerance, &mut skipped);
                let features: Vec<Value> = hits
                    .iter()
                    .filter(|h| passes(h.layer, h.offset, &filters))
                    .filter_map(|h| {
                        feature_json(
                            h.layer,
                            &h.layer.layer.name,
                            h.offset,
                            only.as_deref(),
                            with_geometry,
                        )
                        .ok()
                    })
                    .collect();
                json!({
                    "type": "FeatureCollection",
                    "numberMatched": features.len(),
                    "numberReturned": features.len(),
                    "features": features,
                })
            })
            .await
        }
        (None, None, Some(bbox)) => {
            let limit = p.count("limit", LOOKUP_LIMIT, MAX_LIMIT)?;
            let offset = p.count("offset", 0, usize::MAX)?;
            let page = Page { limit, offset };
            let layers: Vec<(usize, usize)> = {
                let chosen_layers = chosen(&tilesets, names.as_deref())?;
                check_filters(&chosen_layers, &p.filters)?;
                layer_positions(&tilesets, &chosen_layers)
            };
            let base = base_url(state, req);
            let self_url = format!("{base}{}", req.uri());
            let filters = p.filters.clone();
            page_reply(state, move || {
                let list: Vec<&TilesetLayer> = layers
                    .iter()
                    .map(|&(t, l)| &tilesets[t].layers[l])
                    .collect();
                page_json(
                    &list,
                    &bbox,
                    &filters,
                    page,
                    only.as_deref(),
                    with_geometry,
                    &self_url,
                )
            })
            .await
        }
        _ => Err(bad_request(
            "give either lon and lat (a point) or bbox=minlon,minlat,maxlon,maxlat (a box)",
        )),
    }
}

/// Runs `page_json` on a blocking thread and answers it as GeoJSON.
async fn page_reply(state: &State, page: impl FnOnce() -> Value + Send + 'static) -> Reply {
    let body = state
        .blocking(page)
        .await
        .map_err(|e| Failure(hyper::StatusCode::INTERNAL_SERVER_ERROR, e))?;
    Ok(geojson(&body))
}

/// (tileset, layer) positions of `chosen` layers, to move them to a
/// blocking thread with the tilesets they borrow from.
fn layer_positions(tilesets: &[Arc<Tileset>], chosen: &[&TilesetLayer]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (t, ts) in tilesets.iter().enumerate() {
        for (l, layer) in ts.layers.iter().enumerate() {
            if chosen.iter().any(|c| std::ptr::eq(*c, layer)) {
                out.push((t, l));
            }
        }
    }
    out
}

#[derive(Debug, Clone, Copy)]
struct Page {
    limit: usize,
    offset: usize,
}

/// A page of the features of `layers` in `bbox` (layer order, then file
/// order), with `numberMatched`, `numberReturned` and a `next` link.
fn page_json(
    layers: &[&TilesetLayer],
    bbox: &Bbox,
    filters: &[(String, String)],
    page: Page,
    only: Option<&[String]>,
    with_geometry: bool,
    self_url: &str,
) -> Value {
    let mut matched = 0usize;
    let mut features = Vec::new();
    let mut skipped = 0;
    for tl in layers {
        let offsets = in_bbox(tl, bbox, |o| passes(tl, o, filters), &mut skipped);
        for o in offsets {
            if matched >= page.offset && features.len() < page.limit {
                if let Ok(f) = feature_json(tl, &tl.layer.name, o, only, with_geometry) {
                    features.push(f);
                }
            }
            matched += 1;
        }
    }
    let mut links = vec![json!({"rel": "self", "type": GEOJSON, "href": self_url})];
    if page.limit > 0 && page.offset + features.len() < matched {
        links.push(json!({
            "rel": "next",
            "type": GEOJSON,
            "href": with_param(self_url, "offset", &(page.offset + page.limit).to_string()),
        }));
    }
    json!({
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": features.len(),
        "features": features,
        "links": links,
    })
}

/// `url` with `key` set to `value` in its query.
fn with_param(url: &str, key: &str, value: &str) -> String {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .filter(|(k, _)| k != key)
        .collect();
    pairs.push((key.to_string(), value.to_string()));
    let q = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{path}?{q}")
}

/// Whether the client asked for JSON rather than the HTML page.
pub fn wants_json(req: &Request<Incoming>) -> bool {
    if let Some(f) = query(req).into_iter().find(|(k, _)| k == "f") {
        return f.1 == "json";
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.contains("json") && !accept.contains("text/html")
}

/// The OGC API landing page.
pub fn landing(state: &State, req: &Request<Incoming>) -> Response<Body> {
    let base = base_url(state, req);
    json_body(&json!({
        "title": "plantiles",
        "description": "Spatial-planning layers as vector tiles and OGC API - Features",
        "links": [
            {"rel": "self", "type": "application/json", "href": format!("{base}/?f=json")},
            {"rel": "service-desc", "type": OPENAPI, "href": format!("{base}/api")},
            {"rel": "service-doc", "type": "text/html", "href": format!("{base}/")},
            {"rel": "conformance", "type": "application/json", "href": format!("{base}/conformance")},
            {"rel": "data", "type": "application/json", "href": format!("{base}/collections")},
        ],
    }))
}

/// The OpenAPI 3.0 description of the feature and tile endpoints.
pub fn api(state: &State, req: &Request<Incoming>) -> Response<Body> {
    let base = base_url(state, req);
    let param = |name: &str, place: &str, schema: Value, description: &str| {
        json!({"name": name, "in": place, "required": place == "path",
               "schema": schema, "description": description})
    };
    let collection_id = param(
        "collectionId",
        "path",
        json!({"type": "string"}),
        "{tileset}.{layer}",
    );
    let items_params = json!([
        collection_id.clone(),
        param(
            "bbox",
            "query",
            json!({"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}),
            "minlon,minlat,maxlon,maxlat (CRS84)"
        ),
        param(
            "limit",
            "query",
            json!({"type": "integer", "minimum": 0, "maximum": MAX_LIMIT, "default": ITEMS_LIMIT}),
            "features per page"
        ),
        param(
            "offset",
            "query",
            json!({"type": "integer", "minimum": 0, "default": 0}),
            "features to skip"
        ),
    ]);
    let ok = |description: &str, media: &str| {
        json!({"200": {"description": description,
        "content": {media: {}}}, "400": {"description": "bad parameter"}, "404": {"description": "not found"}})
    };
    let mut r = json_body(&json!({
        "openapi": "3.0.3",
        "info": {"title": "plantiles", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Spatial-planning layers as vector tiles and OGC API - Features"},
        "servers": [{"url": base}],
        "paths": {
            "/": {"get": {"operationId": "landing", "responses": ok("landing page", "application/json")}},
            "/conformance": {"get": {"operationId": "conformance", "responses": ok("conformance classes", "application/json")}},
            "/collections": {"get": {"operationId": "collections", "responses": ok("collections", "application/json")}},
            "/collections/{collectionId}": {"get": {"operationId": "collection", "parameters": [collection_id.clone()],
                "responses": ok("collection", "application/json")}},
            "/collections/{collectionId}/items": {"get": {"operationId": "items", "parameters": items_params,
                "responses": ok("features", GEOJSON)}},
            "/collections/{collectionId}/items/{featureId}": {"get": {"operationId": "item", "parameters": [
                collection_id, param("featureId", "path", json!({"type": "string"}), "feature id")],
                "responses": ok("feature", GEOJSON)}},
            "/features/{tileset}": {"get": {"operationId": "lookup", "parameters": [
                param("tileset", "path", json!({"type": "string"}), "tileset id, or ids joined by commas"),
                param("lon", "query", json!({"type": "number"}), "longitude of the point"),
                param("lat", "query", json!({"type": "number"}), "latitude of the point"),
                param("bbox", "query", json!({"type": "string"}), "minlon,minlat,maxlon,maxlat"),
                param("layers", "query", json!({"type": "string"}), "layer names joined by commas"),
                param("properties", "query", json!({"type": "string"}), "property names joined by commas"),
                param("geometry", "query", json!({"type": "boolean", "default": true}), "include geometry"),
                param("limit", "query", json!({"type": "integer", "maximum": MAX_LIMIT, "default": LOOKUP_LIMIT}), "page size (bbox)"),
                param("offset", "query", json!({"type": "integer", "default": 0}), "features to skip (bbox)")],
                "responses": ok("features", GEOJSON)}},
            "/tiles/{tileset}": {"get": {"operationId": "tilejson", "responses": ok("TileJSON 3.0.0", "application/json")}},
            "/tiles/{tileset}/{z}/{x}/{y}": {"get": {"operationId": "tile",
                "responses": ok("Mapbox Vector Tile", "application/vnd.mapbox-vector-tile")}},
        }
    }));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(OPENAPI));
    r
}

pub fn conformance() -> Response<Body> {
    json_body(&json!({
        "conformsTo": [
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        ]
    }))
}

/// Every collection: (id, tileset, layer index).
fn all_collections(state: &State) -> Vec<(String, Arc<Tileset>, usize)> {
    let catalog = state.catalog();
    let mut out = Vec::new();
    for ts in catalog.tilesets.values() {
        for (i, l) in ts.layers.iter().enumerate() {
            out.push((format!("{}.{}", ts.id, l.layer.name), ts.clone(), i));
        }
    }
    out
}

fn find_collection(state: &State, id: &str) -> Result<(Arc<Tileset>, usize), Failure> {
    all_collections(state)
        .into_iter()
        .find(|(c, _, _)| c == id)
        .map(|(_, ts, i)| (ts, i))
        .ok_or_else(|| not_found(format!("unknown collection {id:?}; see /collections")))
}

fn collection_json(base: &str, id: &str, tl: &TilesetLayer) -> Value {
    let b = tl
        .layer
        .bbox
        .unwrap_or(Bbox::new(-180.0, -90.0, 180.0, 90.0));
    json!({
        "id": id,
        "title": tl.layer.title.clone().unwrap_or_else(|| tl.layer.name.clone()),
        "description": tl.layer.description.clone().unwrap_or_default(),
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [[b.min_x, b.min_y, b.max_x, b.max_y]], "crs": CRS84}},
        "links": [
            {"rel": "self", "type": "application/json", "href": format!("{base}/collections/{id}")},
            {"rel": "items", "type": GEOJSON, "href": format!("{base}/collections/{id}/items")},
        ],
    })
}

pub fn collections(state: &State, req: &Request<Incoming>) -> Reply {
    let base = base_url(state, req);
    let list: Vec<Value> = all_collections(state)
        .iter()
        .map(|(id, ts, i)| collection_json(&base, id, &ts.layers[*i]))
        .collect();
    Ok(json_body(&json!({
        "links": [{"rel": "self", "type": "application/json", "href": format!("{base}/collections")}],
        "collections": list,
    })))
}

pub fn collection(state: &State, req: &Request<Incoming>, id: &str) -> Reply {
    let (ts, i) = find_collection(state, id)?;
    Ok(json_body(&collection_json(
        &base_url(state, req),
        id,
        &ts.layers[i],
    )))
}

/// `GET /collections/{id}/items`.
pub async fn items(state: &State, req: &Request<Incoming>, id: &str) -> Reply {
    let (ts, i) = find_collection(state, id)?;
    let p = Params::new(req)?;
    let limit = p.count("limit", ITEMS_LIMIT, MAX_LIMIT)?;
    let offset = p.count("offset", 0, usize::MAX)?;
    let bbox = p.bbox()?.unwrap_or(Bbox::new(-180.0, -90.0, 180.0, 90.0));
    check_filters(&[&ts.layers[i]], &p.filters)?;
    let only = p.list("properties");
    let with_geometry = p.geometry()?;
    let self_url = format!("{}{}", base_url(state, req), req.uri());
    let filters = p.filters.clone();
    page_reply(state, move || {
        let tl = &ts.layers[i];
        page_json(
            &[tl],
            &bbox,
            &filters,
            Page { limit, offset },
            only.as_deref(),
            with_geometry,
            &self_url,
        )
    })
    .await
}

/// `GET /collections/{id}/items/{featureId}`.
pub async fn item(state: &State, req: &Request<Incoming>, id: &str, fid: &str) -> Reply {
    let (ts, i) = find_collection(state, id)?;
    let offset: u64 = fid
        .parse()
        .map_err(|_| not_found(format!("no feature {fid:?} in {id}")))?;
    let base = base_url(state, req);
    let (id, fid) = (id.to_string(), fid.to_string());
    let found = state
        .blocking(move || {
            let tl = &ts.layers[i];
            if !is_feature(&tl.layer, offset) {
                return None;
            }
            let mut f = feature_json(tl, &tl.layer.name, offset, None, true).ok()?;
            f["links"] = json!([
                {"rel": "self", "type": GEOJSON, "href": format!("{base}/collections/{id}/items/{fid}")},
                {"rel": "collection", "type": "application/json", "href": format!("{base}/collections/{id}")},
            ]);
            Some(f)
        })
        .await
        .map_err(|e| Failure(hyper::StatusCode::INTERNAL_SERVER_ERROR, e))?;
    found
        .map(|f| geojson(&f))
        .ok_or_else(|| not_found("no such feature in this collection"))
}
