//! Playing a sound through the system's audio library, loaded at run time so that the build
//! needs no audio headers or libraries: PulseAudio's simple API (`libpulse-simple.so.0`, which
//! PipeWire serves too), then ALSA (`libasound.so.2`). Where neither gives an output device
//! (a server, CI), [`play`] says why, naming each library's answer.
//!
//! Playing blocks until the sound has drained; callers run it on a worker thread.

use std::ffi::{CStr, CString, c_char, c_int, c_uint, c_void};

use libloading::{Library, Symbol};

/// Plays mono `samples` (−1..1) at `rate` Hz to the default output; blocks until played.
pub fn play(samples: &[f32], rate: u32) -> Result<(), String> {
    let pcm: Vec<i16> = samples
        .iter()
        .map(|&v| (v.clamp(-1.0, 1.0) * i16::MAX as f32).round() as i16)
        .collect();
    let pulse = match pulse(&pcm, rate) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    let alsa = match alsa(&pcm, rate) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    Err(format!(
        "no sound output on this machine (PulseAudio: {pulse}; ALSA: {alsa}); export the WAV instead"
    ))
}

/// A C library's static error string for `code` (`s`), or the code where it gave none.
fn c_message(s: *const c_char, code: c_int) -> String {
    if s.is_null() {
        format!("error {code}")
    } else {
        // SAFETY: both libraries' strerror functions return NUL-terminated static strings.
        unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned()
    }
}

fn open(name: &str) -> Result<Library, String> {
    // SAFETY: loading a system library runs its initialisers; both libraries named here are
    // the system's own audio client libraries, which are safe to load into any process.
    unsafe { Library::new(name) }.map_err(|_| format!("{name} not found"))
}

fn symbol<'l, T>(lib: &'l Library, name: &str) -> Result<Symbol<'l, T>, String> {
    // SAFETY: each caller names a symbol of the C API with the Rust type of its prototype.
    unsafe { lib.get(name.as_bytes()) }.map_err(|_| format!("{name} missing"))
}

#[repr(C)]
struct PaSampleSpec {
    format: c_int,
    rate: u32,
    channels: u8,
}

const PA_STREAM_PLAYBACK: c_int = 1;
const PA_SAMPLE_S16LE: c_int = 3;

fn pulse(pcm: &[i16], rate: u32) -> Result<(), String> {
    type New = unsafe extern "C" fn(
        *const c_char,
        *const c_char,
        c_int,
        *const c_char,
        *const c_char,
        *const PaSampleSpec,
        *const c_void,
        *const c_void,
        *mut c_int,
    ) -> *mut c_void;
    type Write = unsafe extern "C" fn(*mut c_void, *const c_void, usize, *mut c_int) -> c_int;
    type Drain = unsafe extern "C" fn(*mut c_void, *mut c_int) -> c_int;
    type Free = unsafe extern "C" fn(*mut c_void);
    type StrError = unsafe extern "C" fn(c_int) -> *const c_char;

    let lib = open("libpulse-simple.so.0")?;
    let new: Symbol<New> = symbol(&lib, "pa_simple_new")?;
    let write: Symbol<Write> = symbol(&lib, "pa_simple_write")?;
    let drain: Symbol<Drain> = symbol(&lib, "pa_simple_drain")?;
    let free: Symbol<Free> = symbol(&lib, "pa_simple_free")?;
    // pa_strerror lives in libpulse, which libpulse-simple loads.
    let strerror: Option<Symbol<StrError>> = symbol(&lib, "pa_strerror").ok();
    let describe = |code: c_int| match &strerror {
        // SAFETY: pa_strerror takes any code and returns a static string or null.
        Some(f) => c_message(unsafe { f(code) }, code),
        None => format!("error {code}"),
    };

    let spec = PaSampleSpec {
        format: PA_SAMPLE_S16LE,
        rate,
        channels: 1,
    };
    let app = c"Latent Lab";
    let stream = c"playback";
    let mut error: c_int = 0;
    // SAFETY: the pointers are valid C strings and a sample spec that outlive the call; null
    // server, device, channel map and buffer attributes ask for the defaults.
    let s = unsafe {
        new(
            std::ptr::null(),
            app.as_ptr(),
            PA_STREAM_PLAYBACK,
            std::ptr::null(),
            stream.as_ptr(),
            &spec,
            std::ptr::null(),
            std::ptr::null(),
            &mut error,
        )
    };
    if s.is_null() {
        return Err(describe(error));
    }
    // SAFETY: `s` is a live stream until freed below; the buffer is `pcm`, whole.
    let result = unsafe {
        if write(
            s,
            pcm.as_ptr().cast(),
            std::mem::size_of_val(pcm),
            &mut error,
        ) < 0
            || drain(s, &mut error) < 0
        {
            Err(describe(error))
        } else {
            Ok(())
        }
    };
    // SAFETY: `s` came from pa_simple_new and is freed once.
    unsafe { free(s) };
    result
}

const SND_PCM_STREAM_PLAYBACK: c_int = 0;
const SND_PCM_FORMAT_S16_LE: c_int = 2;
const SND_PCM_ACCESS_RW_INTERLEAVED: c_int = 3;

fn alsa(pcm: &[i16], rate: u32) -> Result<(), String> {
    type Open = unsafe extern "C" fn(*mut *mut c_void, *const c_char, c_int, c_int) -> c_int;
    type SetParams =
        unsafe extern "C" fn(*mut c_void, c_int, c_int, c_uint, c_uint, c_int, c_uint) -> c_int;
    type WriteI = unsafe extern "C" fn(*mut c_void, *const c_void, std::ffi::c_ulong) -> isize;
    type Recover = unsafe extern "C" fn(*mut c_void, c_int, c_int) -> c_int;
    type Handle = unsafe extern "C" fn(*mut c_void) -> c_int;
    type StrError = unsafe extern "C" fn(c_int) -> *const c_char;

    let lib = open("libasound.so.2")?;
    let open_pcm: Symbol<Open> = symbol(&lib, "snd_pcm_open")?;
    let set_params: Symbol<SetParams> = symbol(&lib, "snd_pcm_set_params")?;
    let writei: Symbol<WriteI> = symbol(&lib, "snd_pcm_writei")?;
    let recover: Symbol<Recover> = symbol(&lib, "snd_pcm_recover")?;
    let drain: Symbol<Handle> = symbol(&lib, "snd_pcm_drain")?;
    let close: Symbol<Handle> = symbol(&lib, "snd_pcm_close")?;
    let strerror: Symbol<StrError> = symbol(&lib, "snd_strerror")?;
    // SAFETY: snd_strerror takes any code and returns a static string.
    let describe = |code: c_int| c_message(unsafe { strerror(code) }, code);

    let device = CString::new("default").map_err(|e| e.to_string())?;
    let mut handle: *mut c_void = std::ptr::null_mut();
    // SAFETY: `handle` receives the opened PCM; the name is a valid C string.
    let rc = unsafe { open_pcm(&mut handle, device.as_ptr(), SND_PCM_STREAM_PLAYBACK, 0) };
    if rc < 0 || handle.is_null() {
        return Err(format!("cannot open device \"default\" ({})", describe(rc)));
    }
    let play = || -> Result<(), String> {
        // SAFETY: `handle` is an open PCM until closed below; 0.2 s latency, resampling allowed.
        let rc = unsafe {
            set_params(
                handle,
                SND_PCM_FORMAT_S16_LE,
                SND_PCM_ACCESS_RW_INTERLEAVED,
                1,
                rate,
                1,
                200_000,
            )
        };
        if rc < 0 {
            return Err(describe(rc));
        }
        let mut rest = pcm;
        while !rest.is_empty() {
            // SAFETY: writes at most `rest.len()` mono frames from `rest`.
            let n = unsafe { writei(handle, rest.as_ptr().cast(), rest.len() as _) };
            if n < 0 {
                // SAFETY: as above; recovers from an underrun or a suspend.
                let rc = unsafe { recover(handle, n as c_int, 1) };
                if rc < 0 {
                    return Err(describe(rc));
                }
                continue;
            }
            rest = &rest[(n as usize).min(rest.len())..];
        }
        // SAFETY: as above.
        unsafe { drain(handle) };
        Ok(())
    };
    let result = play();
    // SAFETY: closes the PCM opened above, once.
    unsafe { close(handle) };
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where this machine has no sound server or card (CI), playing answers with a reason
    /// naming both libraries instead of failing silently or panicking; where it has one, the
    /// 50 ms of silence plays.
    #[test]
    fn playing_without_a_device_says_why_and_with_one_plays() {
        match play(&vec![0.0; 800], 16_000) {
            Ok(()) => {}
            Err(e) => {
                assert!(e.contains("PulseAudio") && e.contains("ALSA"), "{e}");
                assert!(e.contains("export the WAV"), "{e}");
            }
        }
    }
}
