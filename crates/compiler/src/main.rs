//! The `schemac` command line: check, layout, fmt, gen, encode and decode (DESIGN §7).
//!
//! Exit codes: 0 ok, 1 schema errors (or `fmt --check` found differences, or bad data for
//! `encode`/`decode`), 2 usage or I/O errors.

use clap::{Parser, Subcommand, ValueEnum};
use schemac::codec;
use schemac::emit::{self, Target};
use schemac::{compile, fmt, layout_table, Failure};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "schemac",
    version,
    about = "Schema compiler for machine-learning samples: Rust, Python and CUDA over one wire format",
    after_help = "Exit codes: 0 ok, 1 schema errors or bad data (encode/decode), 2 usage or I/O errors."
)]
struct Cli {
    /// When to color diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    color: Color,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Check schemas and report every error.
    Check {
        #[arg(required = true)]
        schemas: Vec<PathBuf>,
    },
    /// Print each record's leaves, bit offsets and bytes per sample in every layout.
    Layout {
        #[arg(required = true)]
        schemas: Vec<PathBuf>,
        /// `json` prints the whole IR.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Rewrite schemas in the canonical style (comments are kept).
    Fmt {
        #[arg(required = true)]
        schemas: Vec<PathBuf>,
        /// Write nothing; exit 1 if any file is not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Generate code. With no target flag, every target is generated.
    Gen {
        #[arg(required = true)]
        schemas: Vec<PathBuf>,
        /// Output directory.
        #[arg(long, short)]
        out: PathBuf,
        /// Generate Rust.
        #[arg(long)]
        rust: bool,
        /// Generate Python.
        #[arg(long)]
        python: bool,
        /// Generate CUDA.
        #[arg(long)]
        cuda: bool,
    },
    /// Encode one sample given as JSON into bytes, checking it against the schema.
    #[command(
        after_help = "Exit codes: 0 ok, 1 bad data or schema errors, 2 usage or I/O errors."
    )]
    Encode {
        /// The schema file.
        #[arg(long)]
        schema: PathBuf,
        /// The sample to encode.
        #[arg(long)]
        sample: String,
        /// Output format (`packed`: the aggregate compact bytes; aggregate samples only).
        #[arg(long, value_enum, default_value_t = codec::Format::Msgpack)]
        to: codec::Format,
        /// The sample as JSON (default: stdin).
        input: Option<PathBuf>,
    },
    /// Decode one sample's bytes and print it as JSON (arrays as {data_b64, shape, dtype}).
    #[command(
        after_help = "Exit codes: 0 ok, 1 bad data or schema errors, 2 usage or I/O errors."
    )]
    Decode {
        /// The schema file.
        #[arg(long)]
        schema: PathBuf,
        /// The sample to decode.
        #[arg(long)]
        sample: String,
        /// Input format (`msgpack` also reads msgpack-numpy and .npy arrays).
        #[arg(long, value_enum, default_value_t = codec::Format::Msgpack)]
        from: codec::Format,
        /// Indent the JSON output.
        #[arg(long)]
        pretty: bool,
        /// The encoded sample (default: stdin).
        input: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let code = match cli.command {
        Command::Check { schemas } => each(&schemas, color, |path, c| {
            let samples = c.schema.samples().count();
            let components = c.schema.records.len() - samples;
            eprintln!(
                "ok: {} ({samples} sample{}, {components} component{}, {} enum{})",
                path.display(),
                plural(samples),
                plural(components),
                c.schema.enums.len(),
                plural(c.schema.enums.len())
            );
            0
        }),
        Command::Layout { schemas, format } => each(&schemas, color, |_, c| {
            match format {
                Format::Text => print!("{}", layout_table::layout_table(&c.schema)),
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&c.schema).expect("the IR always serialises")
                ),
            }
            0
        }),
        Command::Fmt { schemas, check } => run_fmt(&schemas, check, color),
        Command::Gen {
            schemas,
            out,
            rust,
            python,
            cuda,
        } => {
            let mut targets: Vec<Target> = [
                (rust, Target::Rust),
                (python, Target::Python),
                (cuda, Target::Cuda),
            ]
            .into_iter()
            .filter_map(|(on, t)| on.then_some(t))
            .collect();
            if targets.is_empty() {
                targets = Target::ALL.to_vec();
            }
            gen(&schemas, &targets, &out, color)
        }
        Command::Encode {
            schema,
            sample,
            to,
            input,
        } => with_codec(&schema, &sample, color, |codec| {
            encode(codec, to, input.as_deref())
        }),
        Command::Decode {
            schema,
            sample,
            from,
            pretty,
            input,
        } => with_codec(&schema, &sample, color, |codec| {
            decode(codec, from, pretty, input.as_deref())
        }),
    };
    ExitCode::from(code as u8)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Compiles each schema, prints its diagnostics, and runs `action` on the clean ones.
/// Returns the worst exit code.
fn each(
    schemas: &[PathBuf],
    color: bool,
    mut action: impl FnMut(&Path, &compile::Compiled) -> i32,
) -> i32 {
    let mut worst = 0;
    for path in schemas {
        match compile::compile_file(path) {
            Ok(compiled) => {
                if !compiled.warnings.is_empty() {
                    eprint!(
                        "{}",
                        compile::render_all(&compiled.sources, &compiled.warnings, color)
                    );
                }
                worst = worst.max(action(path, &compiled));
            }
            Err(failure) => {
                eprint!("{}", failure.render(color));
                worst = worst.max(failure.exit_code());
            }
        }
    }
    worst
}

/// Compiles every schema and each schema it imports (generated once each, so importers
/// refer to one definition of every record), renders every target first; writes only when
/// all of that succeeded (so a failure never leaves partial output), then all files at once.
fn gen(schemas: &[PathBuf], targets: &[Target], out: &Path, color: bool) -> i32 {
    let mut rendered: Vec<(PathBuf, String)> = Vec::new();
    let mut done: Vec<PathBuf> = Vec::new();
    let mut worst = 0;
    for root in schemas {
        let closure = match compile::compile_closure(root) {
            Ok(c) => c,
            Err(failure) => {
                eprint!("{}", failure.render(color));
                worst = worst.max(failure.exit_code());
                continue;
            }
        };
        for (path, c) in closure {
            let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if done.contains(&key) {
                continue;
            }
            done.push(key);
            if !c.warnings.is_empty() {
                eprint!("{}", compile::render_all(&c.sources, &c.warnings, color));
            }
            let mut schema = c.schema;
            schema.source = schemac::builder::header_source(&path);
            for &target in targets {
                match emit::emit(target, &schema) {
                    Ok(files) => {
                        for f in files {
                            let dest = out.join(&f.path);
                            if rendered.iter().any(|(p, _)| *p == dest) {
                                eprintln!(
                                    "error: {}: another schema also generates {}; give one a `package`",
                                    path.display(),
                                    dest.display()
                                );
                                worst = worst.max(2);
                            } else {
                                rendered.push((dest, f.contents));
                            }
                        }
                    }
                    Err(e) => {
                        eprintln!("error: {}: {e}", path.display());
                        worst = worst.max(2);
                    }
                }
            }
        }
    }
    if worst != 0 {
        eprintln!("error: nothing was written to {}", out.display());
        return worst;
    }
    match schemac::builder::write_all(&rendered) {
        Ok(written) => {
            for ((path, changed), (_, contents)) in written.iter().zip(&rendered) {
                println!(
                    "{} {} ({} bytes)",
                    if *changed { "wrote" } else { "unchanged" },
                    path.display(),
                    contents.len()
                );
            }
            0
        }
        Err((path, e)) => {
            eprintln!("error: cannot write {}: {e}", path.display());
            2
        }
    }
}

/// Compiles `schema`, finds `sample`, and runs `action` with its codec.
fn with_codec(
    schema: &Path,
    sample: &str,
    color: bool,
    mut action: impl FnMut(&codec::Codec<'_>) -> i32,
) -> i32 {
    each(
        &[schema.to_path_buf()],
        color,
        |_, c| match codec::Codec::new(&c.schema, sample) {
            Ok(codec) => action(&codec),
            Err(e) => {
                eprintln!("error: {}: {e}", schema.display());
                2
            }
        },
    )
}

/// Reads INPUT, or stdin when it is absent or `-`.
fn read_input(input: Option<&Path>) -> Result<Vec<u8>, i32> {
    use std::io::Read;
    let mut buf = Vec::new();
    let r = match input {
        Some(p) if p != Path::new("-") => std::fs::read(p).map(|b| buf = b),
        _ => std::io::stdin().lock().read_to_end(&mut buf).map(drop),
    };
    r.map(|()| buf).map_err(|e| {
        let what = input.map_or("stdin".into(), |p| p.display().to_string());
        eprintln!("error: cannot read {what}: {e}");
        2
    })
}

fn write_stdout(bytes: &[u8]) -> i32 {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            2
        }
    }
}

fn encode(codec: &codec::Codec<'_>, to: codec::Format, input: Option<&Path>) -> i32 {
    if to == codec::Format::Packed && codec.aggregate().is_none() {
        eprintln!(
            "error: --to packed: sample `{}` has no aggregate packed form (that needs \
             @bits and a fixed shape on every leaf, and bitpack mode auto or aggregate)",
            codec.record().name
        );
        return 2;
    }
    let text = match read_input(input) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let bytes = codec
        .from_json_slice(&text)
        .and_then(|v| codec.encode(&v, to));
    match bytes {
        Ok(mut bytes) => {
            if to == codec::Format::Json {
                bytes.push(b'\n');
            }
            write_stdout(&bytes)
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn decode(
    codec: &codec::Codec<'_>,
    from: codec::Format,
    pretty: bool,
    input: Option<&Path>,
) -> i32 {
    if from == codec::Format::Packed && codec.aggregate().is_none() {
        eprintln!(
            "error: --from packed: sample `{}` has no aggregate packed form",
            codec.record().name
        );
        return 2;
    }
    let bytes = match read_input(input) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let json = codec
        .decode(&bytes, from)
        .and_then(|v| codec.to_json_string(&v, pretty));
    match json {
        Ok(mut text) => {
            text.push('\n');
            write_stdout(text.as_bytes())
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn run_fmt(schemas: &[PathBuf], check: bool, color: bool) -> i32 {
    let mut worst = 0;
    for path in schemas {
        let text = match schemac::load::read_schema(path) {
            Ok(t) => t,
            Err(e) => {
                eprint!("{}", Failure::Io(path.clone(), e).render(color));
                worst = worst.max(2);
                continue;
            }
        };
        let mut sources = schemac::diag::Sources::new();
        let id = sources.add(path.display().to_string(), path.clone(), text.clone());
        // The text as `Sources` keeps it (without a byte-order mark), so carets line up.
        let source = sources.text(id);
        let file = match schemac::parse::parse(id, source) {
            Ok(f) => f,
            Err(d) => {
                eprint!("{}", compile::render_all(&sources, &[*d], color));
                worst = worst.max(1);
                continue;
            }
        };
        let formatted = fmt::format(&file, source);
        if formatted == text {
            continue;
        }
        if check {
            eprintln!("{}: not formatted", path.display());
            worst = worst.max(1);
        } else if let Err(e) = std::fs::write(path, &formatted) {
            eprintln!("error: cannot write {}: {e}", path.display());
            worst = worst.max(2);
        } else {
            println!("formatted {}", path.display());
        }
    }
    worst
}
