pub struct MdsWriter;
