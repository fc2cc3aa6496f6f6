//! The land-use code table of Vietnamese planning maps.
//!
//! Codes, their Vietnamese names and the fill colours of the mapping
//! regulation (Circular 27/2018/TT-BTNMT). The table is data: the sample
//! generator draws codes from it and the planning style and its legend are
//! built from it, so a change in the regulation is a change of rows here,
//! never of branches elsewhere.

/// The three groups of the land-use classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Agricultural,
    NonAgricultural,
    Unused,
}

/// One land-use code.
#[derive(Debug, Clone, Copy)]
pub struct LandUse {
    /// The three-letter code, as in the `ma_dat` column.
    pub code: &'static str,
    /// The Vietnamese name, as in the `ten_dat` column.
    pub name: &'static str,
    pub group: Group,
    /// Fill colour, sRGB.
    pub rgb: [u8; 3],
}

impl LandUse {
    /// The colour as CSS hex, `#rrggbb`.
    pub fn hex(&self) -> String {
        let [r, g, b] = self.rgb;
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

const fn lu(code: &'static str, name: &'static str, group: Group, rgb: [u8; 3]) -> LandUse {
    LandUse {
        code,
        name,
        group,
        rgb,
    }
}

use Group::{Agricultural as A, NonAgricultural as N, Unused as U};

/// Every code, in the order of the regulation's legend.
pub const TABLE: &[LandUse] = &[
    lu("LUC", "Đất chuyên trồng lúa nước", A, [255, 252, 140]),
    lu("LUK", "Đất trồng lúa nước còn lại", A, [255, 252, 150]),
    lu("LUA", "Đất trồng lúa", A, [255, 252, 130]),
    lu("HNK", "Đất trồng cây hằng năm khác", A, [255, 240, 180]),
    lu("CLN", "Đất trồng cây lâu năm", A, [255, 210, 160]),
    lu("RSX", "Đất rừng sản xuất", A, [180, 255, 180]),
    lu("RPH", "Đất rừng phòng hộ", A, [190, 255, 30]),
    lu("RDD", "Đất rừng đặc dụng", A, [110, 255, 100]),
    lu("NTS", "Đất nuôi trồng thủy sản", A, [170, 255, 255]),
    lu("LMU", "Đất làm muối", A, [255, 255, 254]),
    lu("NKH", "Đất nông nghiệp khác", A, [245, 255, 180]),
    lu("ONT", "Đất ở tại nông thôn", N, [255, 208, 255]),
    lu("ODT", "Đất ở tại đô thị", N, [255, 160, 255]),
    lu("TSC", "Đất xây dựng trụ sở cơ quan", N, [255, 170, 160]),
    lu("CQP", "Đất quốc phòng", N, [255, 100, 80]),
    lu("CAN", "Đất an ninh", N, [255, 80, 70]),
    lu("DVH", "Đất xây dựng cơ sở văn hóa", N, [255, 170, 160]),
    lu("DYT", "Đất xây dựng cơ sở y tế", N, [255, 170, 160]),
    lu(
        "DGD",
        "Đất xây dựng cơ sở giáo dục và đào tạo",
        N,
        [255, 170, 160],
    ),
    lu(
        "DTT",
        "Đất xây dựng cơ sở thể dục thể thao",
        N,
        [255, 170, 160],
    ),
    lu(
        "DKH",
        "Đất xây dựng cơ sở khoa học và công nghệ",
        N,
        [255, 170, 160],
    ),
    lu(
        "DXH",
        "Đất xây dựng cơ sở dịch vụ xã hội",
        N,
        [255, 170, 160],
    ),
    lu("SKK", "Đất khu công nghiệp", N, [250, 170, 160]),
    lu("SKN", "Đất cụm công nghiệp", N, [250, 170, 160]),
    lu("SKT", "Đất khu chế xuất", N, [250, 170, 160]),
    lu("TMD", "Đất thương mại, dịch vụ", N, [250, 170, 160]),
    lu(
        "SKC",
        "Đất cơ sở sản xuất phi nông nghiệp",
        N,
        [250, 170, 160],
    ),
    lu(
        "SKS",
        "Đất sử dụng cho hoạt động khoáng sản",
        N,
        [205, 170, 205],
    ),
    lu(
        "SKX",
        "Đất sản xuất vật liệu xây dựng, làm đồ gốm",
        N,
        [205, 170, 205],
    ),
    lu("DGT", "Đất giao thông", N, [255, 170, 50]),
    lu("DTL", "Đất thủy lợi", N, [170, 255, 255]),
    lu("DNL", "Đất công trình năng lượng", N, [255, 170, 160]),
    lu(
        "DBV",
        "Đất công trình bưu chính, viễn thông",
        N,
        [255, 170, 160],
    ),
    lu("DCH", "Đất chợ", N, [255, 170, 160]),
    lu(
        "DDT",
        "Đất có di tích lịch sử - văn hóa",
        N,
        [255, 170, 160],
    ),
    lu("DDL", "Đất danh lam thắng cảnh", N, [255, 170, 160]),
    lu("DSH", "Đất sinh hoạt cộng đồng", N, [255, 170, 160]),
    lu(
        "DKV",
        "Đất khu vui chơi, giải trí công cộng",
        N,
        [255, 170, 160],
    ),
    lu("DRA", "Đất bãi thải, xử lý chất thải", N, [205, 170, 205]),
    lu("TON", "Đất cơ sở tôn giáo", N, [255, 170, 160]),
    lu("TIN", "Đất cơ sở tín ngưỡng", N, [255, 170, 160]),
    lu(
        "NTD",
        "Đất nghĩa trang, nghĩa địa, nhà tang lễ, nhà hỏa táng",
        N,
        [210, 210, 210],
    ),
    lu(
        "SON",
        "Đất sông, ngòi, kênh, rạch, suối",
        N,
        [160, 255, 255],
    ),
    lu("MNC", "Đất có mặt nước chuyên dùng", N, [160, 255, 255]),
    lu("PNK", "Đất phi nông nghiệp khác", N, [255, 170, 160]),
    lu("BCS", "Đất bằng chưa sử dụng", U, [255, 255, 254]),
    lu("DCS", "Đất đồi núi chưa sử dụng", U, [255, 255, 254]),
    lu("NCS", "Núi đá không có rừng cây", U, [230, 230, 200]),
];

/// The row of `code`, if the table has it.
pub fn lookup(code: &str) -> Option<&'static LandUse> {
    TABLE.iter().find(|row| row.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_three_letter_upper_case() {
        let mut seen = std::collections::HashSet::new();
        for row in TABLE {
            assert_eq!(row.code.len(), 3, "{}", row.code);
            assert!(row.code.bytes().all(|b| b.is_ascii_uppercase()));
            assert!(seen.insert(row.code), "duplicate {}", row.code);
        }
    }

    #[test]
    fn hex_matches_the_regulation_colours() {
        assert_eq!(lookup("LUC").map(LandUse::hex).as_deref(), Some("#fffc8c"));
        assert_eq!(lookup("DGT").map(LandUse::hex).as_deref(), Some("#ffaa32"));
        assert!(lookup("XYZ").is_none());
    }
}
