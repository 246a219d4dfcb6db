//! Opening a volume: which views (ISO 9660, Joliet, Rock Ridge) its descriptors and root
//! directory offer, and one view opened.

use super::*;

/// Which views a volume offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsoVolumes {
    /// Primary volume identifier.
    pub label: String,
    /// A Joliet supplementary volume descriptor is present.
    pub has_joliet: bool,
    /// Joliet UCS-2 level (1-3).
    pub joliet_level: Option<u8>,
    /// Joliet volume identifier.
    pub joliet_label: Option<String>,
    /// The root directory carries Rock Ridge entries.
    pub has_rock_ridge: bool,
    /// An NSR02/NSR03 descriptor follows: the disc is a UDF bridge.
    pub has_udf_marker: bool,
    /// The volume is High Sierra (the format ECMA-119 grew out of), not ISO 9660.
    pub high_sierra: bool,
    /// Block of the El Torito boot catalog.
    pub boot_catalog: Option<u32>,
}

/// The SUSP state of a volume from the root directory's `.` record: `Some(skip)` when it has
/// an `SP` entry (or, leniently, Rock Ridge entries without one), and whether Rock Ridge is
/// present.
fn probe_susp(dev: &dyn ByteSource, root: &DirRecord) -> Result<(Option<usize>, bool)> {
    let start = root.extent as u64 * SECTOR;
    if start + SECTOR > dev.len() {
        return Err(corrupt(format!(
            "root directory at block {} lies past the end of the device",
            root.extent
        )));
    }
    let mut buf = vec![0u8; SECTOR as usize];
    dev.read_exact_at(&mut buf, start)?;
    let Some(dot) = parse_directory_record(&buf, false)? else {
        return Err(corrupt("root directory has no '.' record".into()));
    };
    let su = &dot.system_use;
    let skip = if su.len() >= 7 && &su[0..2] == b"SP" && su[4] == 0xBE && su[5] == 0xEF {
        Some(su[6] as usize)
    } else {
        let (e, _) = parse_susp(su);
        e.iter()
            .any(|e| matches!(&e.sig, b"PX" | b"NM" | b"TF" | b"RR"))
            .then_some(0)
    };
    let Some(skip) = skip else {
        return Ok((None, false));
    };
    // A CE loop here must not make the volume unopenable: treat it as no Rock Ridge.
    let entries = collect_entries(dev, su, skip, &mut { MAX_LISTING_CE_BYTES }).unwrap_or_default();
    let rr = RockRidge::from_entries(&entries).any
        || entries.iter().any(|e| {
            &e.sig == b"ER" && {
                let id = String::from_utf8_lossy(&e.data);
                id.contains("RRIP") || id.contains("IEEE_P1282") || id.contains("IEEE_1282")
            }
        });
    Ok((Some(skip), rr))
}

fn root_record(
    dev: &dyn ByteSource,
    vd_off: u64,
    high_sierra: bool,
) -> Result<(Vec<u8>, DirRecord, u64)> {
    let mut vd = vec![0u8; SECTOR as usize];
    dev.read_exact_at(&mut vd, vd_off)?;
    let (block_size_at, root_at) = if high_sierra { (136, 180) } else { (128, 156) };
    let bs = u16::from_le_bytes([vd[block_size_at], vd[block_size_at + 1]]);
    if bs != 2048 {
        return Err(FsError::Unsupported(format!(
            "logical block size {bs} (only 2048 is supported)"
        )));
    }
    let mut root = parse_directory_record(&vd[root_at..], high_sierra)?
        .ok_or_else(|| corrupt("empty root directory record".into()))?;
    // Some writers store a longer length than the 34 bytes the descriptor has room for.
    root.system_use.clear();
    Ok((vd, root, vd_off + root_at as u64))
}

/// Which views the volume whose descriptors start at block `base_lba + 16` has.
pub fn detect(dev: &dyn ByteSource, base_lba: u32) -> Result<IsoVolumes> {
    let d = volume::scan(dev, base_lba)?;
    let pvd_off = d.primary.expect("scan ensures a primary descriptor");
    let (pvd, root, _) = root_record(dev, pvd_off, d.high_sierra)?;
    let has_rock_ridge = if d.high_sierra {
        false
    } else {
        probe_susp(dev, &root)?.1
    };
    let joliet_label = match d.joliet {
        Some((off, _)) => {
            let mut svd = vec![0u8; SECTOR as usize];
            dev.read_exact_at(&mut svd, off)?;
            Some(volume::joliet_label(&svd))
        }
        None => None,
    };
    Ok(IsoVolumes {
        label: volume::primary_label(&pvd, d.high_sierra),
        has_joliet: d.joliet.is_some(),
        joliet_level: d.joliet.map(|j| j.1),
        joliet_label,
        has_rock_ridge,
        has_udf_marker: d.udf_marker,
        high_sierra: d.high_sierra,
        boot_catalog: d.boot_catalog,
    })
}

impl IsoFs {
    /// Like [`open_iso`], keeping the concrete type.
    pub fn open(dev: crate::api::Device, kind: FsKind, base_lba: u32) -> Result<IsoFs> {
        let d = volume::scan(&*dev, base_lba)?;
        let pvd_off = d.primary.expect("scan ensures a primary descriptor");
        let (pvd, pvd_root, _) = root_record(&*dev, pvd_off, d.high_sierra)?;
        let (susp_skip, has_rr) = if d.high_sierra {
            (None, false)
        } else {
            probe_susp(&*dev, &pvd_root)?
        };
        let pvd_susp = susp_skip;
        let (vd_off, names, label, high_sierra, susp_skip) = match kind {
            FsKind::Iso9660 => (
                pvd_off,
                Names::Iso,
                volume::primary_label(&pvd, d.high_sierra),
                d.high_sierra,
                susp_skip,
            ),
            FsKind::RockRidge => {
                if !has_rr {
                    return Err(FsError::NotFound("Rock Ridge"));
                }
                (
                    pvd_off,
                    Names::RockRidge,
                    volume::primary_label(&pvd, false),
                    false,
                    susp_skip,
                )
            }
            FsKind::Joliet => {
                let (off, _) = d.joliet.ok_or(FsError::NotFound("Joliet"))?;
                let mut svd = vec![0u8; SECTOR as usize];
                dev.read_exact_at(&mut svd, off)?;
                (off, Names::Joliet, volume::joliet_label(&svd), false, None)
            }
            FsKind::Udf => {
                return Err(FsError::Unsupported(
                    "UDF is not part of the ISO 9660 reader".into(),
                ));
            }
        };
        let (_, root_rec, root_pos) = root_record(&*dev, vd_off, high_sierra)?;
        let fs = IsoFs {
            dev,
            kind,
            label,
            names,
            high_sierra,
            susp_skip,
            root: NodeId(root_pos),
            nodes: Mutex::new(HashMap::new()),
            dirs: Mutex::new(HashMap::new()),
            owners: Mutex::new(HashMap::new()),
            zcache: Mutex::new(None),
            primary_base: (kind == FsKind::Joliet && pvd_susp.is_some()).then_some(base_lba),
            joliet_zf: OnceLock::new(),
        };
        // The root's attributes are those of its own '.' record (where SP lives).
        let start = root_rec.extent as u64 * SECTOR;
        if start + SECTOR > fs.dev.len() {
            return Err(corrupt(format!(
                "root directory at block {} lies past the end of the device",
                root_rec.extent
            )));
        }
        let mut buf = vec![0u8; SECTOR as usize];
        fs.dev.read_exact_at(&mut buf, start)?;
        let dot = parse_directory_record(&buf, high_sierra)?.unwrap_or_else(|| root_rec.clone());
        let mut dot = dot;
        dot.extent = root_rec.extent;
        dot.size = root_rec.size;
        dot.flags |= crate::iso::record::FLAG_DIRECTORY;
        let (_, root) = fs.make_node(&[(root_pos, dot.as_ref())], true, &mut {
            MAX_LISTING_CE_BYTES
        })?;
        fs.nodes.lock().unwrap().insert(root_pos, Arc::new(root));
        Ok(fs)
    }
}
