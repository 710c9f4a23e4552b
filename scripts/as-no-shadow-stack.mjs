// An asc transform for the guest kernels: no shadow stack.
//
// Our kernels use their own runtime (guest-lib/rt/partition.ts: a bump allocator
// bounded by the partition, which never frees and never collects). asc counts any
// custom runtime as the incremental GC's kind and then, for the collector's sake,
// keeps a shadow stack of managed references: every function that holds one grows a
// frame in memory, zero-fills it (memory.fill) and stores each reference there. With
// no collector those stores are dead work, which the meter would charge as guest
// cycles. This transform sets the stack size back to 0 after asc has read its options
// (so the shadow stack pass does not run), and gives the marker calls the compiler
// leaves for that pass (~lib/rt/__tostack, which returns its argument) a body, which
// the optimizer then inlines away.
export default class NoShadowStack {
  afterInitialize(program) {
    program.options.stackSize = 0;
  }
  afterCompile(module) {
    const name = "~lib/rt/__tostack";
    if (module.getFunction(name)) return;
    const { i32 } = this.binaryen;
    module.addFunction(name, i32, i32, [], module.local.get(0, i32));
  }
}
