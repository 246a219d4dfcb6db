//! El Torito on debian-ipxe/ipxe.iso against `xorriso -report_el_torito plain`.

mod common;
use common::*;
use spindle_fs::iso::eltorito::{Emulation, PLATFORM_EFI, PLATFORM_X86, catalog_lba};
use spindle_fs::{FsKind, boot_entries, detect, read_boot_image, resolve};
use std::process::Command;

#[test]
fn ipxe_boot_catalog_matches_xorriso() {
    let iso = format!("{SAMPLES}/debian-ipxe/ipxe.iso");
    let dev = device(std::path::Path::new(&iso));
    assert_eq!(catalog_lba(&*dev, 0).unwrap(), Some(33));
    assert_eq!(detect(&*dev, 0).unwrap().boot_catalog, Some(33));
    let entries = boot_entries(&*dev, 0).unwrap();
    assert_eq!(entries.len(), 2, "{entries:?}");

    let bios = &entries[0];
    assert_eq!(
        (bios.platform, bios.platform_name()),
        (PLATFORM_X86, "BIOS")
    );
    assert!(bios.bootable);
    assert_eq!(bios.emulation, Emulation::NoEmulation);
    assert_eq!(
        (bios.sector_count, bios.load_rba, bios.load_size),
        (4, 466, 2048)
    );
    let efi = &entries[1];
    assert_eq!((efi.platform, efi.platform_name()), (PLATFORM_EFI, "UEFI"));
    assert_eq!(efi.emulation, Emulation::NoEmulation);
    assert_eq!((efi.sector_count, efi.load_rba), (1728, 34));

    // The loaded bytes are the start of the files xorriso names.
    let fs = open(&dev, FsKind::RockRidge);
    for (e, path) in [(bios, "isolinux.bin"), (efi, "efi.img")] {
        let img = read_boot_image(&*dev, e).unwrap();
        assert_eq!(img.len() as u64, e.load_size);
        let file = read_all(&*fs, resolve(&*fs, path).unwrap()).unwrap();
        assert_eq!(&file[..img.len()], &img[..], "{path}");
    }

    // xorriso's table: N Pltf B Emul Ld_seg Hdpt Ldsiz LBA.
    let out = Command::new("xorriso")
        .args(["-indev", &iso, "-report_el_torito", "plain"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("El Torito catalog  : 33"), "{text}");
    let rows: Vec<Vec<&str>> = text
        .lines()
        .filter_map(|l| l.strip_prefix("El Torito boot img :"))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), entries.len());
    for (row, e) in rows.iter().zip(&entries) {
        assert_eq!(row[1], e.platform_name());
        assert_eq!(row[2], if e.bootable { "y" } else { "n" });
        assert_eq!(row[3], "none");
        assert_eq!(
            u16::from_str_radix(row[4].trim_start_matches("0x"), 16).unwrap(),
            e.load_segment
        );
        assert_eq!(row[6].parse::<u16>().unwrap(), e.sector_count);
        assert_eq!(row[7].parse::<u32>().unwrap(), e.load_rba);
    }
}

#[test]
fn catalog_checksum_and_key_are_checked() {
    use spindle_fs::iso::eltorito::parse_catalog;
    let iso = std::fs::read(format!("{SAMPLES}/debian-ipxe/ipxe.iso")).unwrap();
    let cat = &iso[33 * 2048..34 * 2048];
    assert_eq!(parse_catalog(cat).unwrap().len(), 2);
    let mut bad = cat.to_vec();
    bad[4] ^= 1;
    assert!(
        parse_catalog(&bad)
            .unwrap_err()
            .to_string()
            .contains("checksum")
    );
    bad = cat.to_vec();
    bad[31] = 0;
    assert!(parse_catalog(&bad).is_err());
    assert!(parse_catalog(&cat[..40]).is_err());
    // Not bootable: no entries.
    let dev = device(std::path::Path::new(&format!(
        "{SAMPLES}/libcdio/copying.iso"
    )));
    assert!(boot_entries(&*dev, 0).unwrap().is_empty());
}

/// Floppy and hard disk emulation images made with genisoimage: emulation type, system type,
/// and the image size (floppy size; MBR partition end, which xorriso reports as `hdsiz/512`).
#[test]
fn floppy_and_hard_disk_emulation() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let mut floppy = vec![0u8; 1_474_560];
    floppy[510..512].copy_from_slice(&[0x55, 0xAA]);
    floppy[1000..1005].copy_from_slice(b"FLOPY");
    std::fs::write(src.join("floppy.img"), &floppy).unwrap();
    let mut hd = vec![0u8; 2063 * 512];
    hd[510..512].copy_from_slice(&[0x55, 0xAA]);
    hd[446] = 0x80;
    hd[446 + 4] = 0x01;
    hd[446 + 8..446 + 12].copy_from_slice(&63u32.to_le_bytes());
    hd[446 + 12..446 + 16].copy_from_slice(&2000u32.to_le_bytes());
    hd[63 * 512 + 3..63 * 512 + 8].copy_from_slice(b"HDISK");
    std::fs::write(src.join("hd.img"), &hd).unwrap();
    for (name, args, image, emulation, size, xorriso_emul) in [
        (
            "fl.iso",
            &["-b", "floppy.img"][..],
            &floppy,
            Emulation::Floppy1440,
            1_474_560u64,
            "fd1.4",
        ),
        (
            "hd.iso",
            &["-hard-disk-boot", "-b", "hd.img"][..],
            &hd,
            Emulation::HardDisk,
            2063 * 512,
            "hd",
        ),
    ] {
        let iso = tmp.path().join(name);
        let st = Command::new("genisoimage")
            .args(["-quiet", "-c", "boot.cat"])
            .args(args)
            .arg("-o")
            .arg(&iso)
            .arg(&src)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        let dev = device(&iso);
        let e = boot_entries(&*dev, 0).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(
            (e[0].emulation, e[0].load_size, e[0].sector_count),
            (emulation, size, 1)
        );
        assert_eq!(&read_boot_image(&*dev, &e[0]).unwrap()[..], &image[..]);
        let out = Command::new("xorriso")
            .args(["-indev"])
            .arg(&iso)
            .args(["-report_el_torito", "plain"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let row: Vec<&str> = text
            .lines()
            .find_map(|l| l.strip_prefix("El Torito boot img :"))
            .unwrap()
            .split_whitespace()
            .collect();
        assert_eq!(row[3], xorriso_emul);
        assert_eq!(
            u8::from_str_radix(row[5].trim_start_matches("0x"), 16).unwrap(),
            e[0].system_type
        );
        assert_eq!(row[7].parse::<u32>().unwrap(), e[0].load_rba);
        if emulation == Emulation::HardDisk {
            assert!(
                text.contains(&format!("hdsiz/512:   1  {}", size / 512)),
                "{text}"
            );
        }
    }
}
