// Test program: imports a function no kernel provides (the loader must refuse it).
@external("env", "no_such_call") declare function noSuchCall(): void;
noSuchCall();
