pub struct MdxWriter;
