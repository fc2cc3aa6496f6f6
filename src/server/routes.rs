//! Request routing and the handlers. Every error is JSON with a message,
//! and this file is the one place that maps failures to HTTP statuses: a
//! client's mistake is a 4xx, never a 500.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};

use super::{features, State};
use crate::cache::{CacheKey, CachedTile};
use crate::render::{render_sources, Source};
use crate::tile::TileCoord;
use crate::tileset::Tileset;

pub(super) type Body = Full<Bytes>;

/// A failed request: its status and what to tell the client.
pub(super) struct Failure(pub StatusCode, pub String);

pub(super) type Reply = Result<Response<Body>, Failure>;

pub(super) fn bad_request(message: impl Into<String>) -> Failure {
    Failure(StatusCode::BAD_REQUEST, message.into())
}

pub(super) fn not_found(message: impl Into<String>) -> Failure {
    Failure(StatusCode::NOT_FOUND, message.into())
}

pub(super) fn with_type(body: impl Into<Bytes>, content_type: &'static str) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

pub(super) fn json_body(value: &Value) -> Response<Body> {
    with_type(value.to_string(), "application/json")
}

fn failure_response(Failure(status, message): Failure) -> Response<Body> {
    let mut r = json_body(&json!({"error": message, "status": status.as_u16()}));
    *r.status_mut() = status;
    if status == StatusCode::METHOD_NOT_ALLOWED {
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    r
}

/// The route a path belongs to, for metrics; bounded, never the raw path.
fn route_of(segments: &[&str]) -> &'static str {
    match segments {
        [""] => "index",
        ["tiles", _] => "tilejson",
        ["tiles", ..] => "tile",
        ["catalog"] => "catalog",
        ["styles"] | ["styles", _] => "style",
        ["health"] => "health",
        ["features", _] => "features",
        ["conformance"] | ["api"] => "conformance",
        ["collections"] | ["collections", _] => "collections",
        ["collections", _, "items", ..] => "items",
        ["metrics"] => "metrics",
        _ => "unknown",
    }
}

pub async fn handle(state: &State, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let route = route_of(&segments);
    let head = req.method() == Method::HEAD;
    let result = if req.method() != Method::GET && !head {
        Err(Failure(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{} is not allowed here; use GET or HEAD", req.method()),
        ))
    } else {
        dispatch(state, &req, &segments, &path).await
    };
    let mut response = result.unwrap_or_else(failure_response);
    if let Some(cors) = &state.headers.cors {
        response
            .headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, cors.clone());
    }
    state.metrics.request(route, response.status().as_u16());
    tracing::debug!(%path, status = response.status().as_u16(), "request");
    if head {
        *response.body_mut() = Full::new(Bytes::new());
    }
    response
}

async fn dispatch(state: &State, req: &Request<Incoming>, segments: &[&str], path: &str) -> Reply {
    match segments {
        [""] if features::wants_json(req) => Ok(features::landing(state, req)),
        [""] => Ok(index_page(state, req)),
        ["health"] => Ok(health(state)),
        ["metrics"] => Ok(with_type(
            state.metrics.text(&state.cache.stats),
            "text/plain; version=0.0.4",
        )),
        ["catalog"] => Ok(catalog(state, req)),
        ["tiles", ids] => {
            let tilesets = resolve(state, ids)?;
            Ok(json_body(&tilejson(&tilesets, ids, &base_url(state, req))))
        }
        ["tiles", ids, z, x, y] => tile(state, req, ids, z, x, y).await,
        ["tiles", ..] => Err(bad_request(format!(
            "malformed tile path {path}; use /tiles/{{tileset}}/{{z}}/{{x}}/{{y}}"
        ))),
        ["styles"] => styles(state, req),
        ["styles", name] => style(state, req, name),
        ["features", ids] => features::lookup(state, req, ids).await,
        ["conformance"] => Ok(features::conformance()),
        ["api"] => Ok(features::api(state, req)),
        ["collections"] => features::collections(state, req),
        ["collections", id] => features::collection(state, req, id),
        ["collections", id, "items"] => features::items(state, req, id).await,
        ["collections", id, "items", fid] => features::item(state, req, id, fid).await,
        _ => Err(not_found(format!("no such resource: {path}; see /catalog"))),
    }
}

fn health(state: &State) -> Response<Body> {
    let ready = state.is_ready();
    let mut r = json_body(&json!({
        "status": if ready { "ready" } else { "loading" },
        "tilesets": state.catalog().tilesets.len(),
    }));
    if !ready {
        *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    }
    r
}

/// The tilesets named by `ids`: one id, or several joined by commas.
pub(super) fn resolve(state: &State, ids: &str) -> Result<Vec<Arc<Tileset>>, Failure> {
    let catalog = state.catalog();
    if !ids.contains(',') {
        return catalog
            .tilesets
            .get(ids)
            .map(|t| vec![t.clone()])
            .ok_or_else(|| not_found(format!("unknown tileset {ids:?}; see /catalog")));
    }
    let mut seen = HashSet::new();
    ids.split(',')
        .map(|id| {
            if !seen.insert(id) {
                return Err(bad_request(format!("tileset {id:?} is named twice")));
            }
            catalog
                .tilesets
                .get(id)
                .cloned()
                .ok_or_else(|| not_found(format!("unknown tileset {id:?}; see /catalog")))
        })
        .collect()
}

fn parse_tile(z: &str, x: &str, y: &str) -> Result<TileCoord, Failure> {
    let y = y
        .strip_suffix(".mvt")
        .or_else(|| y.strip_suffix(".pbf"))
        .unwrap_or(y);
    let num = |s: &str| {
        (!s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    match (num(z), num(x), num(y)) {
        (Some(z), Some(x), Some(y)) => TileCoord::new(z.min(u32::MAX as u64) as u32, x, y)
            .map_err(|e| bad_request(e.to_string())),
        _ => Err(bad_request(format!(
            "tile address {z}/{x}/{y} is not three whole numbers z/x/y"
        ))),
    }
}

fn zoom_range(tilesets: &[Arc<Tileset>]) -> (u8, u8) {
    (
        tilesets.iter().map(|t| t.minzoom()).min().unwrap_or(0),
        tilesets.iter().map(|t| t.maxzoom()).max().unwrap_or(0),
    )
}

async fn tile(
    state: &State,
    req: &Request<Incoming>,
    ids: &str,
    z: &str,
    x: &str,
    y: &str,
) -> Reply {
    let tilesets = resolve(state, ids)?;
    let coord = parse_tile(z, x, y)?;
    let (minzoom, maxzoom) = zoom_range(&tilesets);
    if coord.z < minzoom || coord.z > maxzoom {
        return Err(not_found(format!(
            "zoom {} is outside the zoom range {minzoom}-{maxzoom} of {ids}",
            coord.z
        )));
    }
    let key = CacheKey {
        tilesets: ids.into(),
        z: coord.z,
        x: coord.x,
        y: coord.y,
    };
    let (result, hit) = state
        .cache
        .get_or_render(key, || render_off_thread(state, tilesets, coord))
        .await;
    match result {
        Ok(cached) => Ok(tile_response(state, req, &cached, hit)),
        Err(message) => {
            tracing::error!(%ids, z = coord.z, x = coord.x, y = coord.y, %message, "render failed");
            Err(Failure(StatusCode::INTERNAL_SERVER_ERROR, message))
        }
    }
}

/// The layers of `tilesets` in order, each under a name unique in the
/// tile: a name already taken by an earlier tileset gets its tileset's
/// id in front (`other.parcels`).
fn sources(tilesets: &[Arc<Tileset>]) -> Vec<(String, usize, usize)> {
    let mut taken = HashSet::new();
    let mut out = Vec::new();
    for (t, ts) in tilesets.iter().enumerate() {
        for (l, layer) in ts.layers.iter().enumerate() {
            let mut name = layer.layer.name.clone();
            if !taken.insert(name.clone()) {
                name = format!("{}.{}", ts.id, layer.layer.name);
                taken.insert(name.clone());
            }
            out.push((name, t, l));
        }
    }
    out
}

async fn render_off_thread(
    state: &State,
    tilesets: Vec<Arc<Tileset>>,
    coord: TileCoord,
) -> Result<CachedTile, String> {
    let _slot = state.renders.acquire().await.map_err(|e| e.to_string())?;
    let started = Instant::now();
    let (tile, skipped) = tokio::task::spawn_blocking(move || {
        let names = sources(&tilesets);
        let list: Vec<Source<'_>> = names
            .iter()
            .map(|(name, t, l)| Source {
                name,
                layer: &tilesets[*t].layers[*l],
                extent: tilesets[*t].extent,
            })
            .collect();
        let rendered = render_sources(&list, coord);
        let tile = CachedTile::from_plain(rendered.bytes)?;
        Ok::<_, String>((tile, rendered.skipped))
    })
    .await
    .map_err(|e| format!("render task failed: {e}"))??;
    state.metrics.rendered(coord.z, started.elapsed(), skipped);
    Ok(tile)
}

/// Whether Accept-Encoding allows gzip (not refused with q=0).
fn accepts_gzip(req: &Request<Incoming>) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut it = part.split(';');
            let name = it.next().unwrap_or("").trim();
            let refused = it.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

fn tile_response(
    state: &State,
    req: &Request<Incoming>,
    tile: &CachedTile,
    hit: bool,
) -> Response<Body> {
    let gzip = accepts_gzip(req) && !tile.plain.is_empty();
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == tile.etag || t.trim() == "*")
        });
    let (status, body) = if not_modified {
        (StatusCode::NOT_MODIFIED, Bytes::new())
    } else if tile.plain.is_empty() {
        (StatusCode::NO_CONTENT, Bytes::new())
    } else if gzip {
        (StatusCode::OK, tile.gzip.clone())
    } else {
        (StatusCode::OK, tile.plain.clone())
    };
    let mut r = with_type(body, "application/vnd.mapbox-vector-tile");
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(v) = HeaderValue::from_str(&tile.etag) {
        h.insert(header::ETAG, v);
    }
    if let Some(v) = &state.headers.cache_control {
        h.insert(header::CACHE_CONTROL, v.clone());
    }
    if gzip && status == StatusCode::OK {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(
        "x-cache",
        HeaderValue::from_static(if hit { "HIT" } else { "MISS" }),
    );
    r
}

/// The base URL of links: the configured one, else the request's
/// X-Forwarded-Proto/Host or Host. Header values that are not a plain
/// host name are ignored, so a client cannot inject markup or paths.
pub(super) fn base_url(state: &State, req: &Request<Incoming>) -> String {
    if let Some(u) = &state.config.public_url {
        return u.clone();
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_string())
    };
    let safe = |s: &String| {
        !s.is_empty()
            && s.len() <= 255
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c))
    };
    let proto = match header("x-forwarded-proto").as_deref() {
        Some("https") => "https",
        _ => "http",
    };
    let host = header("x-forwarded-host")
        .filter(safe)
        .or_else(|| header("host").filter(safe))
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_else(|| state.config.bind.to_string());
    format!("{proto}://{host}")
}

fn field_type(kind: flatgeobuf::ColumnType) -> &'static str {
    use flatgeobuf::ColumnType as C;
    match kind {
        C::Bool => "Boolean",
        C::String | C::Json | C::DateTime | C::Binary => "String",
        _ => "Number",
    }
}

/// TileJSON 3.0.0 of one tileset or a composition, with links under `base`.
pub fn tilejson(tilesets: &[Arc<Tileset>], ids: &str, base: &str) -> Value {
    let bbox = tilesets
        .iter()
        .filter_map(|t| t.bbox())
        .reduce(|a, b| a.union(&b));
    let bounds = bbox.map_or([-180.0, -85.051_129, 180.0, 85.051_129], |b| {
        [b.min_x, b.min_y, b.max_x, b.max_y]
    });
    let (minzoom, maxzoom) = zoom_range(tilesets);
    let centre_zoom = minzoom.max(maxzoom.min(14));
    let names = sources(tilesets);
    let layers: Vec<Value> = names
        .iter()
        .map(|(name, t, l)| {
            let tl = &tilesets[*t].layers[*l];
            let fields: serde_json::Map<String, Value> = tl
                .layer
                .columns
                .iter()
                .zip(&tl.settings.included)
                .filter(|(_, inc)| **inc)
                .map(|(c, _)| (c.name.clone(), json!(field_type(c.kind))))
                .collect();
            json!({
                "id": name,
                "fields": fields,
                "minzoom": tl.settings.minzoom,
                "maxzoom": tl.settings.maxzoom,
                "description": tl.layer.description.clone().unwrap_or_default(),
            })
        })
        .collect();
    let join = |f: fn(&Tileset) -> &str, sep: &str| {
        tilesets
            .iter()
            .map(|t| f(t))
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(sep)
    };
    json!({
        "tilejson": "3.0.0",
        "name": join(|t| &t.name, " + "),
        "description": join(|t| &t.description, " "),
        "attribution": join(|t| &t.attribution, "; "),
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{ids}/{{z}}/{{x}}/{{y}}")],
        "vector_layers": layers,
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": bounds,
        "center": [(bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0, centre_zoom],
    })
}

fn catalog(state: &State, req: &Request<Incoming>) -> Response<Body> {
    let base = base_url(state, req);
    let list: Vec<Value> = state
        .catalog()
        .tilesets
        .values()
        .map(|t| {
            let tj = tilejson(std::slice::from_ref(t), &t.id, &base);
            let layers: Vec<Value> = t
                .layers
                .iter()
                .zip(tj["vector_layers"].as_array().into_iter().flatten())
                .map(|(l, v)| {
                    json!({
                        "id": l.layer.name,
                        "geometry_type": l.layer.geometry_type.variant_name().unwrap_or("Unknown"),
                        "features": l.layer.len(),
                        "minzoom": l.settings.minzoom,
                        "maxzoom": l.settings.maxzoom,
                        "fields": v["fields"],
                    })
                })
                .collect();
            json!({
                "id": t.id,
                "name": t.name,
                "description": t.description,
                "attribution": t.attribution,
                "bounds": tj["bounds"],
                "minzoom": t.minzoom(),
                "maxzoom": t.maxzoom(),
                "tilejson": format!("{base}/tiles/{}", t.id),
                "layers": layers,
            })
        })
        .collect();
    json_body(&json!({ "tilesets": list }))
}

/// Style names: the `.json` files of the styles folder, without extension.
fn style_names(state: &State) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(&state.config.styles)
        .map(|it| {
            it.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn styles(state: &State, req: &Request<Incoming>) -> Reply {
    let base = base_url(state, req);
    let list: Vec<Value> = style_names(state)
        .into_iter()
        .map(|n| json!({"id": n, "url": format!("{base}/styles/{n}")}))
        .collect();
    Ok(json_body(&json!({ "styles": list })))
}

fn style(state: &State, req: &Request<Incoming>, name: &str) -> Reply {
    let name = name.strip_suffix(".json").unwrap_or(name);
    // Only names the folder listing gave: no path can escape the folder.
    if !style_names(state).iter().any(|n| n == name) {
        return Err(not_found(format!("unknown style {name:?}; see /styles")));
    }
    let path = state.config.styles.join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| not_found(format!("style {name:?} cannot be read: {e}")))?;
    let mut style: Value = serde_json::from_str(&text).map_err(|e| {
        tracing::error!(path = %path.display(), error = %e, "style is not JSON");
        Failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("style {name:?} is not valid JSON"),
        )
    })?;
    point_sources_here(&mut style, &base_url(state, req));
    Ok(json_body(&style))
}

/// Rewrites each vector source's TileJSON URL (`…/tiles/{ids}`) and tile
/// URLs (`…/tiles/{ids}/{z}/{x}/{y}`) to this server.
fn point_sources_here(style: &mut Value, base: &str) {
    let rebase = |url: &str| {
        url.find("/tiles/")
            .map(|i| format!("{base}{}", &url[i..]))
            .unwrap_or_else(|| url.to_string())
    };
    let Some(sources) = style.get_mut("sources").and_then(Value::as_object_mut) else {
        return;
    };
    for source in sources.values_mut() {
        if let Some(url) = source.get("url").and_then(Value::as_str).map(rebase) {
            source["url"] = json!(url);
        }
        if let Some(tiles) = source.get_mut("tiles").and_then(Value::as_array_mut) {
            for t in tiles {
                if let Some(url) = t.as_str().map(rebase) {
                    *t = json!(url);
                }
            }
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn index_page(state: &State, req: &Request<Incoming>) -> Response<Body> {
    let base = escape(&base_url(state, req));
    let mut rows = String::new();
    for t in state.catalog().tilesets.values() {
        let layers: Vec<String> = t.layers.iter().map(|l| escape(&l.layer.name)).collect();
        rows.push_str(&format!(
            "<tr><td>{id}</td><td>{name}</td><td>{layers}</td><td>z{min}–{max}</td>\
             <td><a href=\"{base}/tiles/{id}\">TileJSON</a></td></tr>\n",
            id = escape(&t.id),
            name = escape(&t.name),
            layers = layers.join(", "),
            min = t.minzoom(),
            max = t.maxzoom(),
        ));
    }
    let styles: String = style_names(state)
        .iter()
        .map(|n| format!("<li><a href=\"{base}/styles/{0}\">{0}</a></li>", escape(n)))
        .collect();
    let page = format!(
        "<!doctype html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">\
         <title>plantiles</title></head><body>\n<h1>plantiles</h1>\n\
         <h2>Tilesets</h2>\n<table border=\"1\" cellpadding=\"4\">\
         <tr><th>id</th><th>name</th><th>layers</th><th>zoom</th><th>links</th></tr>\n{rows}</table>\n\
         <h2>Styles</h2>\n<ul>{styles}</ul>\n\
         <p><a href=\"{base}/catalog\">catalog</a> · <a href=\"{base}/health\">health</a> · \
         <a href=\"{base}/metrics\">metrics</a></p>\n</body></html>\n"
    );
    with_type(page, "text/html; charset=utf-8")
}
