//! A drive's INQUIRY identity: its default, and the model's form of it.

use spindle_mmc::emu::Identity;
use spindle_protocol::DriveIdentity;

/// What every drive says it is until told otherwise (the emulated drive's default).
pub fn default_identity() -> DriveIdentity {
    let d = Identity::default();
    DriveIdentity {
        vendor: d.vendor,
        product: d.product,
        revision: d.revision,
    }
}

/// The emulated drive's identity for drive `drive`: the vendor, product and revision given,
/// a serial number of its own (VPD page 0x80: each drive has its own, so udev's
/// `/dev/disk/by-id` names differ), the default interface.
pub fn model_identity(id: &DriveIdentity, drive: u32) -> Identity {
    Identity {
        vendor: id.vendor.clone(),
        product: id.product.clone(),
        revision: id.revision.clone(),
        serial: format!("SPD{drive:08}"),
        ..Identity::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_drive_has_its_own_serial() {
        let id = default_identity();
        assert_eq!(id.vendor, "SPINDLE");
        assert_ne!(model_identity(&id, 0).serial, model_identity(&id, 1).serial);
        assert_eq!(model_identity(&id, 3).product, id.product);
    }
}
