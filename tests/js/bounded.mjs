// A scripted run with a time limit, shared by the scripts in this folder.
//
// `body` runs within `limitMs` (past it: "FAIL: WHAT took longer than ..." and exit code 2); an
// error it throws is "FAIL: message" with exit code 1; `cleanup` runs either way. True when
// `body` finished.
export async function bounded(what, limitMs, body, cleanup) {
  const limit = setTimeout(() => {
    console.error(`FAIL: ${what} took longer than ${limitMs} ms`);
    process.exit(2);
  }, limitMs);
  try {
    await body();
    return true;
  } catch (error) {
    console.error(`FAIL: ${error.message}`);
    process.exitCode = 1;
    return false;
  } finally {
    clearTimeout(limit);
    cleanup();
  }
}
