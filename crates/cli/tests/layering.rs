//! Which crate may use which (docs/architecture.md), checked on the resolved dependency graph
//! of `cargo metadata`: frontends never see a format, the burner links no FUSE, and no
//! library depends on the command.
//!
//! Only normal dependencies count (what a crate's library links); dev-dependencies are free
//! to reach anything their tests need, except spindle-fuse's: its tests open no image either.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// One package of the resolved graph.
struct Package {
    name: String,
    /// Part of this workspace.
    member: bool,
    /// Has a library target.
    library: bool,
    /// Package ids of its normal dependencies.
    normal: Vec<String>,
    /// Package ids of all its dependencies, every kind.
    any: Vec<String>,
}

/// The workspace's dependency graph, by package id.
struct Graph {
    packages: BTreeMap<String, Package>,
}

impl Graph {
    /// The graph of the workspace this crate belongs to, read once for all the tests.
    fn get() -> &'static Graph {
        static GRAPH: OnceLock<Graph> = OnceLock::new();
        GRAPH.get_or_init(Graph::load)
    }

    /// Runs `cargo metadata` on the workspace, resolved for the host (the graph for every
    /// platform would need crates that are only ever built on others, which `--offline`
    /// cannot fetch).
    fn load() -> Graph {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
        let out = Command::new(env!("CARGO"))
            .args(["metadata", "--format-version", "1", "--offline"])
            .args(["--filter-platform", &host()])
            .arg("--manifest-path")
            .arg(&root)
            .output()
            .expect("running cargo metadata");
        assert!(
            out.status.success(),
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
        let members: BTreeSet<&str> = meta["workspace_members"]
            .as_array()
            .expect("workspace_members")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let mut packages = BTreeMap::new();
        for p in meta["packages"].as_array().expect("packages") {
            let id = p["id"].as_str().expect("package id").to_string();
            let library = p["targets"].as_array().expect("targets").iter().any(|t| {
                t["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "lib" || k == "proc-macro"))
            });
            packages.insert(
                id.clone(),
                Package {
                    name: p["name"].as_str().expect("package name").to_string(),
                    member: members.contains(id.as_str()),
                    library,
                    normal: Vec::new(),
                    any: Vec::new(),
                },
            );
        }
        for node in meta["resolve"]["nodes"].as_array().expect("resolve nodes") {
            let id = node["id"].as_str().expect("node id");
            let package = packages.get_mut(id).expect("node of a listed package");
            for dep in node["deps"].as_array().expect("node deps") {
                let to = dep["pkg"].as_str().expect("dep pkg").to_string();
                let kinds = dep["dep_kinds"].as_array().expect("dep_kinds");
                if kinds.iter().any(|k| k["kind"].is_null()) {
                    package.normal.push(to.clone());
                }
                package.any.push(to);
            }
        }
        Graph { packages }
    }

    /// The workspace members, by name.
    fn members(&self) -> impl Iterator<Item = (&String, &Package)> {
        self.packages.iter().filter(|(_, p)| p.member)
    }

    fn name(&self, id: &str) -> &str {
        &self.packages[id].name
    }

    fn id_of(&self, name: &str) -> &String {
        self.members()
            .find(|(_, p)| p.name == name)
            .map(|(id, _)| id)
            .unwrap_or_else(|| panic!("no workspace crate {name}"))
    }

    /// Every edge `a -> b` on normal-dependency paths from `from` whose `b` satisfies
    /// `forbidden`, as `from -> ... -> a -> b` chains (one shortest path per forbidden crate).
    fn reaches(&self, from: &str, forbidden: impl Fn(&str) -> bool) -> Vec<String> {
        self.reaches_from(from, false, forbidden)
    }

    /// As [`Graph::reaches`], but `from`'s own dev- and build-dependencies count too (what its
    /// tests, examples and doctests link, as `cargo tree -p from` shows them); theirs do not.
    fn reaches_in_tests(&self, from: &str, forbidden: impl Fn(&str) -> bool) -> Vec<String> {
        self.reaches_from(from, true, forbidden)
    }

    fn reaches_from(
        &self,
        from: &str,
        with_dev: bool,
        forbidden: impl Fn(&str) -> bool,
    ) -> Vec<String> {
        let start = self.id_of(from).clone();
        let origin = start.clone();
        // Breadth first, remembering the parent of each crate reached.
        let mut parent: BTreeMap<String, Option<String>> = BTreeMap::new();
        parent.insert(start.clone(), None);
        let mut queue = std::collections::VecDeque::from([start]);
        let mut found = Vec::new();
        while let Some(id) = queue.pop_front() {
            let package = &self.packages[&id];
            let edges = if with_dev && id == origin {
                &package.any
            } else {
                &package.normal
            };
            for to in edges {
                if parent.contains_key(to) {
                    continue;
                }
                parent.insert(to.clone(), Some(id.clone()));
                if forbidden(self.name(to)) {
                    found.push(self.path_to(&parent, to));
                } else {
                    queue.push_back(to.clone());
                }
            }
        }
        found
    }

    fn path_to(&self, parent: &BTreeMap<String, Option<String>>, to: &str) -> String {
        let mut chain = vec![self.name(to).to_string()];
        let mut at = to.to_string();
        while let Some(Some(p)) = parent.get(&at) {
            chain.push(self.name(p).to_string());
            at = p.clone();
        }
        chain.reverse();
        chain.join(" -> ")
    }
}

/// The host's target triple, as rustc names it.
fn host() -> String {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("running rustc -vV");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_string()
}

fn is_format(name: &str) -> bool {
    name.starts_with("spindle-format-")
}

/// Fails with every offending edge or path, one a line.
fn assert_none(rule: &str, offences: Vec<String>) {
    assert!(
        offences.is_empty(),
        "{rule}; offending dependencies:\n  {}",
        offences.join("\n  ")
    );
}

#[test]
fn only_the_registry_uses_format_crates() {
    let g = Graph::get();
    let mut offences = Vec::new();
    for (_, p) in g.members() {
        if p.name == "spindle-image" {
            continue;
        }
        for to in &p.normal {
            if is_format(g.name(to)) {
                offences.push(format!("{} -> {}", p.name, g.name(to)));
            }
        }
    }
    assert_none(
        "no crate but spindle-image depends on a spindle-format-* crate",
        offences,
    );
}

#[test]
fn no_library_depends_on_the_command() {
    let g = Graph::get();
    let cli = g.id_of("spindle-cli").clone();
    let mut offences = Vec::new();
    for (id, p) in g.members() {
        if *id == cli || !p.library {
            continue;
        }
        if p.any.contains(&cli) {
            offences.push(format!("{} -> spindle-cli", p.name));
        }
    }
    assert_none("library crates do not depend on spindle-cli", offences);
}

#[test]
fn the_graph_is_the_workspace() {
    // The rules above hold vacuously on an empty or misread graph: check that it is real.
    let g = Graph::get();
    let names: BTreeSet<&str> = g.members().map(|(_, p)| p.name.as_str()).collect();
    for name in [
        "spindle-cli",
        "spindle-image",
        "spindle-burn",
        "spindle-fuse",
    ] {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    assert!(
        names.iter().filter(|n| is_format(n)).count() >= 7,
        "{names:?}"
    );
    assert!(
        !g.reaches("spindle-cli", is_format).is_empty(),
        "the command reaches the formats through spindle-image"
    );
    assert!(
        !g.reaches("spindle-fuse", |n| n == "fuser").is_empty(),
        "spindle-fuse links fuser"
    );
    let testkit = |n: &str| n == "spindle-testkit";
    assert!(
        g.reaches("spindle-daemon", testkit).is_empty()
            && !g.reaches_in_tests("spindle-daemon", testkit).is_empty(),
        "the test kit is a dev-dependency of spindle-daemon only"
    );
}

/// The rules the structure work of issue 16 makes true: the burner's mountinfo reader moves
/// to crates/sys, and FUSE's `toc.json` to the disc catalogue; FUSE's tests that mount
/// images live in crates/daemon, so not even spindle-fuse's dev-dependencies reach a format.
#[test]
fn frontends_link_neither_fuse_nor_formats_they_do_not_serve() {
    let g = Graph::get();
    let mut offences = g.reaches("spindle-burn", |n| n == "fuser");
    offences.extend(g.reaches_in_tests("spindle-fuse", |n| n == "spindle-image" || is_format(n)));
    assert_none(
        "spindle-burn does not link fuser; spindle-fuse, tests included, uses neither \
         spindle-image nor a format",
        offences,
    );
}

/// Issue 17's privilege split: the root helper and the TCMU backend it links parse no image
/// (no spindle-image, no disc model, no format); the helper links only spindle-tcmu and
/// spindle-sys of this workspace.
#[test]
fn the_drive_helper_parses_no_image() {
    let g = Graph::get();
    let image = |n: &str| n == "spindle-image" || n == "spindle-disc" || is_format(n);
    let mut offences = g.reaches("spindle-drive-helper", image);
    offences.extend(g.reaches("spindle-tcmu", image));
    offences.extend(g.reaches("spindle-drive-helper", |n| {
        n.starts_with("spindle-")
            && !matches!(n, "spindle-drive-helper" | "spindle-tcmu" | "spindle-sys")
    }));
    assert_none(
        "spindle-drive-helper and spindle-tcmu link no image parsing; the helper links only \
         spindle-tcmu and spindle-sys",
        offences,
    );
}

/// The FAT writer (issue 18; also the EFI boot images of `spindle create`) lays out files it
/// is given as byte sources: it reads no image, so it links only the byte layer, and it is
/// the workspace's one FAT writer, used by the burner.
#[test]
fn the_fat_writer_links_only_the_byte_layer() {
    let g = Graph::get();
    let offences = g.reaches("spindle-fat", |n| {
        n.starts_with("spindle-") && n != "spindle-bytes"
    });
    assert_none(
        "spindle-fat depends on no spindle crate but spindle-bytes",
        offences,
    );
    assert!(
        !g.reaches("spindle-fat", |n| n == "spindle-bytes")
            .is_empty(),
        "spindle-fat builds on spindle-bytes"
    );
}

/// The ISO writer (issue 19) is a library of its own: it sees the readers only through
/// spindle-fs's `FileSystem` (the command opens the image for its self-check through the
/// registry), so it links neither the registry, nor a format, nor FUSE.
#[test]
fn the_writer_reads_back_through_the_filesystem_interface_only() {
    let g = Graph::get();
    let offences = g.reaches("spindle-author", |n| {
        n == "spindle-image" || is_format(n) || n == "fuser" || n == "spindle-udf"
    });
    assert_none(
        "spindle-author links neither spindle-image, a format, spindle-udf nor fuser",
        offences,
    );
    assert!(
        !g.reaches("spindle-author", |n| n == "spindle-fs")
            .is_empty(),
        "spindle-author uses spindle-fs"
    );
    // Its EFI images come from the project's one FAT writer (issue 19: no second one).
    assert!(
        !g.reaches("spindle-author", |n| n == "spindle-fat")
            .is_empty(),
        "spindle-author builds EFI images with spindle-fat"
    );
}
