//! What a bare-metal program needs on the emulated Cortex-M4F of `run-qemu.sh` (QEMU's `netduinoplus2`, the
//! memory map of `link.ld`), shared by the firmware's `qemu` binary and the peers measured beside it: the reset
//! handler (floating-point unit, `.data`, a painted stack), output and exit through semihosting, and SysTick to
//! count instructions. Included with `#[path]`; `entry!(run)` makes `run() -> bool` the program, its result the
//! emulator's exit status.
#![allow(dead_code)]

use core::fmt::Write;

pub mod semihosting {
    //! The two semihosting calls the firmware needs: write a string, exit with a status.

    /// `SYS_WRITE0`: writes a NUL-terminated string to the host's console.
    const WRITE0: u32 = 0x04;
    /// `SYS_EXIT`, with the reason in `r1`.
    const EXIT: u32 = 0x18;
    /// `ADP_Stopped_ApplicationExit`: QEMU exits with status 0.
    const APPLICATION_EXIT: u32 = 0x20026;
    /// `ADP_Stopped_RunTimeErrorUnknown`: QEMU exits with status 1.
    const RUN_TIME_ERROR: u32 = 0x20023;

    fn call(op: u32, arg: usize) {
        // SAFETY: the semihosting trap; the debugger (QEMU) reads `r0` and `r1` and writes `r0`.
        unsafe { core::arch::asm!("bkpt 0xAB", inout("r0") op => _, in("r1") arg, options(nostack)) };
    }

    /// Writes `text` (at most 255 bytes at a time).
    pub fn write(text: &str) {
        for piece in text.as_bytes().chunks(255) {
            let mut buf = [0u8; 256];
            buf[..piece.len()].copy_from_slice(piece);
            call(WRITE0, buf.as_ptr() as usize);
        }
    }

    /// Ends the emulation: status 0 when `ok`, 1 otherwise.
    pub fn exit(ok: bool) -> ! {
        call(EXIT, if ok { APPLICATION_EXIT } else { RUN_TIME_ERROR } as usize);
        loop {
            // SAFETY: waits for an interrupt; reached only if the debugger ignored the exit.
            unsafe { core::arch::asm!("wfi", options(nomem, nostack)) };
        }
    }
}

/// A line of output assembled on the stack, then written through semihosting.
pub struct Line {
    /// The bytes so far.
    pub buf: [u8; 200],
    /// How many.
    pub len: usize,
}
impl Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Writes a formatted line through semihosting.
macro_rules! say {
    ($($arg:tt)*) => {{
        let mut line = $crate::bare::Line { buf: [0; 200], len: 0 };
        let _ = core::fmt::Write::write_fmt(&mut line, format_args!("{}\n", format_args!($($arg)*)));
        $crate::bare::semihosting::write(core::str::from_utf8(&line.buf[..line.len]).unwrap_or("?\n"));
    }};
}

pub mod systick {
    //! The Cortex-M SysTick timer, counting down from its 24-bit reload value at the core's clock.
    const CSR: *mut u32 = 0xE000_E010 as *mut u32;
    const RVR: *mut u32 = 0xE000_E014 as *mut u32;
    const CVR: *mut u32 = 0xE000_E018 as *mut u32;

    /// Starts it from its largest value, on the processor clock, without interrupts.
    pub fn start() {
        // SAFETY: the SysTick registers of every Cortex-M; nothing else uses them.
        unsafe {
            RVR.write_volatile(0x00FF_FFFF);
            CVR.write_volatile(0);
            CSR.write_volatile(0b101);
        }
    }

    /// The current count (it counts down).
    pub fn now() -> u32 {
        // SAFETY: as above.
        unsafe { CVR.read_volatile() }
    }
}

/// Ticks `f` took (below one reload period, 2^24 ticks).
pub fn ticks<R>(f: impl FnOnce() -> R) -> (R, u32) {
    let start = systick::now();
    let r = f();
    let end = systick::now();
    (r, start.wrapping_sub(end) & 0x00FF_FFFF)
}

/// Instructions per thousand SysTick ticks, measured on a loop of a known number of instructions (20,001: a move,
/// then 10,000 subtract-and-branch pairs). Under `-icount shift=0` QEMU's clock advances one nanosecond per
/// instruction and SysTick counts the 168 MHz system clock, so this is about 5,950.
pub fn instructions_per_kilotick() -> u32 {
    let ((), t) = ticks(|| {
        // SAFETY: a register-only loop.
        unsafe {
            core::arch::asm!("movw {n}, #10000", "2:", "subs {n}, {n}, #1", "bne 2b", n = out(reg) _, options(nostack, nomem))
        }
    });
    (20_001u64 * 1000 / u64::from(t.max(1))) as u32
}

/// What the free RAM between `.bss` and the stack is painted with, to find how deep the stack went.
const PAINT: u32 = 0x5AA5_C33C;

/// The top of RAM (`link.ld`), where the stack starts.
const RAM_END: usize = 0x2002_0000;

unsafe extern "C" {
    /// The end of `.bss` (`link.ld`): the stack grows down towards it.
    static mut __ebss: u32;
}

/// Paints the RAM from the end of `.bss` to just below the current stack pointer.
#[inline(always)]
fn paint_stack() {
    let sp: usize;
    // SAFETY: reads the stack pointer.
    unsafe { core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack)) };
    let mut p = &raw mut __ebss;
    while (p as usize) + 64 < sp {
        // SAFETY: RAM between the end of `.bss` and the stack, which nothing uses yet.
        unsafe { p.write_volatile(PAINT) };
        // SAFETY: stays below the stack pointer, inside RAM.
        p = unsafe { p.add(1) };
    }
}

/// The deepest the stack has gone since [`paint_stack`], in bytes below the top of RAM.
pub fn stack_used() -> usize {
    let mut p = &raw const __ebss;
    // SAFETY: reads RAM between the end of `.bss` and the top of RAM, which holds the stack.
    while (p as usize) < RAM_END && unsafe { p.read_volatile() } == PAINT {
        // SAFETY: as above.
        p = unsafe { p.add(1) };
    }
    RAM_END - p as usize
}

/// The reset handler and vector table for `run`: enables the floating-point unit, initialises `.data`, paints the
/// stack, calls `run` out of line (the handler must not touch the floating-point registers before enabling the
/// unit) and ends the emulation with status 0 when it returns `true`.
macro_rules! entry {
    ($run:path) => {
        /// The reset handler.
        ///
        /// # Safety
        ///
        /// Entered by the core at reset only.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn reset() -> ! {
            // SAFETY: entered once, at reset.
            unsafe { $crate::bare::start() };
            $crate::bare::semihosting::exit(run_out_of_line())
        }

        #[inline(never)]
        fn run_out_of_line() -> bool {
            $run()
        }

        /// The initial stack pointer and reset vector, the start of the vector table.
        #[unsafe(link_section = ".vector_table")]
        #[unsafe(no_mangle)]
        pub static VECTORS: [unsafe extern "C" fn() -> !; 1] = [reset];
    };
}

/// Enables the floating-point unit, initialises `.data` and paints the stack.
///
/// # Safety
///
/// Only at reset, before any floating-point instruction and before `.data` is read.
#[inline(always)]
pub unsafe fn start() {
    unsafe extern "C" {
        static mut __sdata: u32;
        static mut __edata: u32;
        static __sidata: u32;
    }
    // SAFETY: CPACR is the architectural coprocessor access register; `.data`'s bounds come from `link.ld`.
    unsafe {
        let cpacr = 0xE000_ED88 as *mut u32;
        cpacr.write_volatile(cpacr.read_volatile() | (0xF << 20));
        core::arch::asm!("dsb", "isb");
        let (mut from, mut to) = (&raw const __sidata, &raw mut __sdata);
        while to < &raw mut __edata {
            to.write_volatile(from.read());
            (from, to) = (from.add(1), to.add(1));
        }
    }
    paint_stack();
}
