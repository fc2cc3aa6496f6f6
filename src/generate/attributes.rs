//! Attribute values of the generated layers: plan ids, decision numbers,
//! dates and building rules, in Vietnamese, with some nulls.

use std::collections::HashMap;

use geozero::ColumnValue;

use super::noise::{hash, unit};
use super::province::{Commune, Province};
use crate::landuse::{self, LandUse};

/// One attribute value, owned; `Null` leaves the property out.
#[derive(Debug, Clone)]
pub enum V {
    Null,
    Str(String),
    Static(&'static str),
    DateTime(String),
    Bool(bool),
    U8(u8),
    I16(i16),
    I32(i32),
    U32(u32),
    U64(u64),
    F32(f32),
    F64(f64),
}

impl V {
    pub fn column(&self) -> Option<ColumnValue<'_>> {
        Some(match self {
            V::Null => return None,
            V::Str(s) => ColumnValue::String(s),
            V::Static(s) => ColumnValue::String(s),
            V::DateTime(s) => ColumnValue::DateTime(s),
            V::Bool(b) => ColumnValue::Bool(*b),
            V::U8(v) => ColumnValue::UByte(*v),
            V::I16(v) => ColumnValue::Short(*v),
            V::I32(v) => ColumnValue::Int(*v),
            V::U32(v) => ColumnValue::UInt(*v),
            V::U64(v) => ColumnValue::ULong(*v),
            V::F32(v) => ColumnValue::Float(*v),
            V::F64(v) => ColumnValue::Double(*v),
        })
    }
}

/// The land-use plan each commune approved: its decision and date.
struct Plan {
    decision: String,
    approved: String,
}

pub struct Attributes {
    seed: u64,
    plans: Vec<Plan>,
}

/// Codes whose parcels carry building rules (height, density, FAR).
fn builds(code: &str) -> bool {
    matches!(
        code,
        "ODT" | "ONT" | "TMD" | "SKC" | "SKK" | "DGD" | "DYT" | "TSC" | "DVH" | "DTT" | "DCH"
    )
}

fn date(h: u64, year: u32) -> String {
    let month = 1 + h % 12;
    let day = 1 + (h >> 8) % 28;
    format!("{year}-{month:02}-{day:02}")
}

impl Attributes {
    pub fn new(p: &Province) -> Attributes {
        let plans = (0..p.communes.len())
            .map(|k| {
                let h = hash(p.seed, &[40, k as i64]);
                Plan {
                    decision: format!("Số {}/QĐ-UBND", 100 + h % 4900),
                    approved: date(h >> 16, 2022 + (h >> 32) as u32 % 3),
                }
            })
            .collect();
        Attributes {
            seed: p.seed,
            plans,
        }
    }

    /// The code of a parcel that fills another's hole: a house or a pond.
    pub fn inner_code(&self, id: u64) -> &'static LandUse {
        let code = if hash(self.seed, &[41, id as i64]).is_multiple_of(2) {
            "ONT"
        } else {
            "NTS"
        };
        landuse::lookup(code).unwrap_or(&landuse::TABLE[0])
    }

    #[allow(clippy::too_many_arguments)]
    pub fn parcel(
        &self,
        p: &Province,
        id: u64,
        i: usize,
        j: usize,
        code: &LandUse,
        sheet: u32,
        number: u32,
        hectares: f64,
    ) -> Vec<V> {
        let commune_index = p.commune_of[p.cell_index(i, j)] as usize;
        let commune = &p.communes[commune_index];
        let plan = &self.plans[commune_index];
        let h = hash(self.seed, &[42, id as i64]);
        let rules = builds(code.code);
        let storeys = 2 + h % 6;
        vec![
            V::U64(id),
            V::I32(sheet as i32),
            V::I32(number as i32),
            V::Static(code.code),
            V::Static(code.name),
            V::F64(hectares),
            V::Str(commune.code.clone()),
            V::Str(format!("QHSDD-{}-2021-2030", commune.code)),
            V::Str(plan.decision.clone()),
            V::DateTime(plan.approved.clone()),
            V::DateTime(plan.approved.clone()),
            if h % 10 < 3 {
                V::Null
            } else {
                V::DateTime("2030-12-31".into())
            },
            if rules {
                V::F32(storeys as f32 * 3.6)
            } else {
                V::Null
            },
            if rules {
                V::F32(40.0 + (h >> 8) as f32 % 50.0)
            } else {
                V::Null
            },
            if rules {
                V::F32((storeys as f32 * 0.5 * 10.0).round() / 10.0)
            } else {
                V::Null
            },
            V::Bool((h >> 20).is_multiple_of(16)),
        ]
    }

    pub fn zone(
        &self,
        p: &Province,
        id: u64,
        first_cell: usize,
        code: &LandUse,
        hectares: f64,
    ) -> Vec<V> {
        let commune_index = p.commune_of[first_cell] as usize;
        let commune = &p.communes[commune_index];
        let plan = &self.plans[commune_index];
        let h = hash(self.seed, &[43, id as i64]);
        let (density, storeys) = match code.code {
            "ODT" => (V::F32(70.0 + (h % 20) as f32), V::U8(5 + (h % 20) as u8)),
            "ONT" => (V::F32(60.0 + (h % 20) as f32), V::U8(3 + (h % 3) as u8)),
            c if builds(c) => (V::F32(40.0 + (h % 30) as f32), V::U8(2 + (h % 8) as u8)),
            _ => (V::Null, V::Null),
        };
        let far = match (&density, &storeys) {
            (V::F32(d), V::U8(s)) => V::F32((d * *s as f32 / 10.0).round() / 10.0),
            _ => V::Null,
        };
        vec![
            V::U64(id),
            V::Static(code.code),
            V::Static(code.name),
            V::F64(hectares),
            V::Str(format!("QHSDD-{}-2021-2030", commune.code)),
            V::Str(format!(
                "Quy hoạch sử dụng đất {} thời kỳ 2021-2030",
                commune.name
            )),
            V::Str(plan.decision.clone()),
            V::DateTime(plan.approved.clone()),
            V::Static("2021-2030, tầm nhìn đến năm 2050"),
            V::DateTime(plan.approved.clone()),
            if h % 10 < 2 {
                V::Null
            } else {
                V::DateTime("2030-12-31".into())
            },
            density,
            storeys,
            far,
        ]
    }

    pub fn commune(&self, commune: &Commune, hectares: f64) -> Vec<V> {
        vec![
            V::Str(commune.code.clone()),
            V::Str(commune.name.clone()),
            V::Static(if commune.urban { "phường" } else { "xã" }),
            V::Static("99"),
            V::F64(hectares),
            V::U32(commune.population),
        ]
    }

    /// The facility planned in cell (i, j), if there is one.
    pub fn facility(&self, p: &Province, i: usize, j: usize) -> Option<Vec<V>> {
        let cell = p.cell_index(i, j);
        let h = hash(self.seed, &[44, cell as i64]);
        let code = p.code(i, j).code;
        let chance = unit(h);
        let kind = match code {
            "DGD" | "DYT" | "DCH" => code,
            "ODT" if chance < 0.02 => ["DGD", "DYT", "DCH"][(h >> 20) as usize % 3],
            "ONT" if chance < 0.01 => ["DGD", "DYT", "DCH"][(h >> 20) as usize % 3],
            _ => return None,
        };
        let commune = &p.communes[p.commune_of[cell] as usize];
        let place = commune
            .name
            .trim_start_matches("Phường ")
            .trim_start_matches("Xã ");
        let (kind_name, title, size) = match kind {
            "DGD" => {
                let level = ["Mầm non", "Tiểu học", "THCS"][(h >> 24) as usize % 3];
                (
                    "truong_hoc",
                    format!("Trường {level} {place}"),
                    300 + (h >> 30) % 1200,
                )
            }
            "DYT" => (
                "tram_y_te",
                format!("Trạm Y tế {place}"),
                10 + (h >> 30) % 40,
            ),
            _ => ("cho", format!("Chợ {place}"), 50 + (h >> 30) % 450),
        };
        let planned = (h >> 40) % 10 < 3;
        Some(vec![
            V::Str(title),
            V::Static(kind_name),
            V::Static(landuse::lookup(kind).map_or("DGD", |l| l.code)),
            V::U32(size as u32),
            V::Static(if planned {
                "quy hoạch"
            } else {
                "hiện trạng"
            }),
            if planned {
                V::I16(2026 + ((h >> 50) % 5) as i16)
            } else {
                V::Null
            },
        ])
    }
}

/// Cadastral map sheets: blocks of 25 × 25 cells, numbered row by row,
/// with parcels numbered within each sheet.
pub struct Sheets {
    across: usize,
    next: HashMap<u32, u32>,
}

impl Sheets {
    const CELLS: usize = 25;

    pub fn new(p: &Province) -> Sheets {
        Sheets {
            across: p.cols.div_ceil(Self::CELLS),
            next: HashMap::new(),
        }
    }

    /// The sheet of cell (i, j) and the next parcel number on it.
    pub fn next(&mut self, i: usize, j: usize) -> (u32, u32) {
        let sheet = ((j / Self::CELLS) * self.across + i / Self::CELLS + 1) as u32;
        let number = self.next.entry(sheet).or_insert(0);
        *number += 1;
        (sheet, *number)
    }
}
