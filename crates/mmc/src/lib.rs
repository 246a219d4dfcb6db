//! SCSI MMC for optical drives: typed commands, a transport trait with a Linux SG_IO
//! implementation, and an emulated drive that answers from a disc model.
