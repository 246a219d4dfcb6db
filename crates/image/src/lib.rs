pub use spindle_disc;
