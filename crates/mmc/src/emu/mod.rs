pub struct EmulatedDrive;
pub struct Faults;
