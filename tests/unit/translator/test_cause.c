/* tests/unit/translator/test_cause.c - stack-trace parsers per language. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "translator/cause.h"

struct fx {
    struct xb_arena *arena;
    struct xb_tr_xcause c;
    struct xb_tr_idgen ids;
};

static const uint8_t tid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t sid[8] = {1, 2, 3, 4, 5, 6, 7, 8};

static void parse(struct fx *f, const char *lang, const char *stack)
{
    struct xb_str t = {"T", 1}, m = {"M", 1};

    f->arena = xb_arena_new(4096, 0);
    memset(&f->c, 0, sizeof(f->c));
    f->ids.trace_id = tid;
    f->ids.span_id = sid;
    f->ids.counter = 0;
    assert_int_equal(xb_tr_cause_add(&f->c, f->arena, &f->ids, t, m, 1), 0);
    assert_int_equal(
        xb_tr_cause_parse_stack(&f->c, 0, lang, stack, strlen(stack), f->arena, &f->ids), 0);
}

static void frame_eq(const struct xb_tr_xframe *fr, const char *path, int64_t line,
                     const char *label)
{
    assert_int_equal(fr->path.n, strlen(path));
    assert_memory_equal(fr->path.p, path, fr->path.n);
    assert_int_equal(fr->line, line);
    assert_int_equal(fr->label.n, strlen(label));
    assert_memory_equal(fr->label.p, label, fr->label.n);
}

static void str_eq(struct xb_str s, const char *want)
{
    assert_int_equal(s.n, strlen(want));
    assert_memory_equal(s.p, want, s.n);
}

static void test_cause_java_frames_and_caused_by(void **state)
{
    struct fx f;
    const char *st = "java.lang.IllegalStateException: outer\n"
                     "\tat java.base/com.foo.A.run(A.java:12)\n"
                     "\tat com.foo.B.native(Native Method)\n"
                     "\t... 3 more\n"
                     "Caused by: java.io.IOException: disk\n"
                     "still disk\n"
                     "\tat com.foo.C.read(C.java:7)\n";

    (void)state;
    parse(&f, "java", st);
    assert_int_equal(f.c.n, 2);
    assert_int_equal(f.c.exc[0].n_frames, 2);
    frame_eq(&f.c.exc[0].frames[0], "A.java", 12, "com.foo.A.run");
    frame_eq(&f.c.exc[0].frames[1], "Native Method", 0, "com.foo.B.native");
    assert_int_equal(f.c.exc[0].cause, 1);
    str_eq(f.c.exc[1].type, "java.io.IOException");
    str_eq(f.c.exc[1].message, "diskstill disk");
    assert_int_equal(f.c.exc[1].remote, 1);
    assert_int_equal(f.c.exc[1].n_frames, 1);
    frame_eq(&f.c.exc[1].frames[0], "C.java", 7, "com.foo.C.read");
    assert_string_not_equal(f.c.exc[0].id, f.c.exc[1].id);
    xb_arena_free(f.arena);
}

static void test_cause_python_bottom_up_and_chained(void **state)
{
    struct fx f;
    const char *st = "Traceback (most recent call last):\n"
                     "  File \"/app/a.py\", line 3, in first\n"
                     "    raise ValueError(\"bad\")\n"
                     "ValueError: bad\n"
                     "\n"
                     "During handling of the above exception, another exception occurred:\n"
                     "\n"
                     "Traceback (most recent call last):\n"
                     "  File \"/app/b.py\", line 10, in outer\n"
                     "    inner()\n"
                     "  File \"/app/b.py\", line 20, in inner\n"
                     "    raise KeyError(\"k\")\n"
                     "KeyError: 'k'\n";

    (void)state;
    parse(&f, "python", st);
    assert_int_equal(f.c.n, 2);
    assert_int_equal(f.c.exc[0].n_frames, 2);
    frame_eq(&f.c.exc[0].frames[0], "/app/b.py", 20, "inner");
    frame_eq(&f.c.exc[0].frames[1], "/app/b.py", 10, "outer");
    str_eq(f.c.exc[1].type, "ValueError");
    str_eq(f.c.exc[1].message, "bad");
    assert_int_equal(f.c.exc[1].n_frames, 1);
    frame_eq(&f.c.exc[1].frames[0], "/app/a.py", 3, "first");
    xb_arena_free(f.arena);
}

static void test_cause_javascript(void **state)
{
    struct fx f;
    const char *st = "TypeError: x is undefined\n"
                     "    at speedy (/app/index.js:10:3)\n"
                     "    at /app/lib.js:20:5\n"
                     "    at Array.forEach (native)\n"
                     "    at weird (nocolon\n";

    (void)state;
    parse(&f, "javascript", st);
    assert_int_equal(f.c.exc[0].n_frames, 3);
    frame_eq(&f.c.exc[0].frames[0], "/app/index.js", 10, "speedy ");
    frame_eq(&f.c.exc[0].frames[1], "/app/lib.js", 20, "");
    frame_eq(&f.c.exc[0].frames[2], "native", 0, "Array.forEach ");
    xb_arena_free(f.arena);
}

static void test_cause_dotnet(void **state)
{
    struct fx f;
    const char *st = "System.Exception: boom\r\n"
                     "   at App.Program.Main(String[] args) in C:\\src\\Program.cs:line 42\r\n"
                     "   --- End of inner exception stack trace ---\r\n"
                     "   at App.Lib.Run()\r\n";

    (void)state;
    parse(&f, "dotnet", st);
    assert_int_equal(f.c.n, 1);
    assert_int_equal(f.c.exc[0].n_frames, 2);
    frame_eq(&f.c.exc[0].frames[0], "C:\\src\\Program.cs", 42, "App.Program.Main(String[] args)");
    frame_eq(&f.c.exc[0].frames[1], "", 0, "App.Lib.Run()");
    xb_arena_free(f.arena);
}

static void test_cause_go(void **state)
{
    struct fx f;
    const char *st = "goroutine 1 [running]:\n"
                     "main.handler(0x1)\n"
                     "\t/app/main.go:24 +0x65\n"
                     "goroutine 7 [running]:\n"
                     "main.main()\n"
                     "\t/app/main.go:30 +0x10\n";

    (void)state;
    parse(&f, "go", st);
    assert_int_equal(f.c.exc[0].n_frames, 2);
    frame_eq(&f.c.exc[0].frames[0], "/app/main.go", 24, "main.handler(0x1)");
    frame_eq(&f.c.exc[0].frames[1], "/app/main.go", 30, "main.main()");
    xb_arena_free(f.arena);
}

static void test_cause_php_uses_java_and_ruby_none(void **state)
{
    struct fx f;

    (void)state;
    parse(&f, "php", "E: x\n\tat a.b(c.php:1)\n");
    assert_int_equal(f.c.exc[0].n_frames, 1);
    xb_arena_free(f.arena);
    parse(&f, "ruby", "E: x\n\tat a.b(c.rb:1)\n");
    assert_int_equal(f.c.exc[0].n_frames, 0);
    xb_arena_free(f.arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cause_java_frames_and_caused_by),
        cmocka_unit_test(test_cause_python_bottom_up_and_chained),
        cmocka_unit_test(test_cause_javascript),
        cmocka_unit_test(test_cause_dotnet),
        cmocka_unit_test(test_cause_go),
        cmocka_unit_test(test_cause_php_uses_java_and_ruby_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
