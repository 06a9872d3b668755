//! Compile-fail cases: every malformed declaration and every shape error is a compile error at the offending
//! token, with a message a person has read. Snapshots are `.stderr` files beside each case.

#[test]
fn compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/malformed/*.rs");
    t.compile_fail("ui/shape/*.rs");
    t.compile_fail("ui/call_site/*.rs");
    t.compile_fail("ui/weights/*.rs");
    t.compile_fail("ui/conv/*.rs");
    t.compile_fail("ui/recurrent/*.rs");
    t.compile_fail("ui/hostile/*.rs");
    t.compile_fail("ui/int8/*.rs");
    t.compile_fail("ui/recovery/*.rs");
    t.compile_fail("ui/sequences/*.rs");
    t.pass("ui/pass/*.rs");
}
