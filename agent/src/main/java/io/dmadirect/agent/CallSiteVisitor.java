package io.dmadirect.agent;

import java.util.Set;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.implementation.Implementation;
import net.bytebuddy.jar.asm.Label;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.pool.TypePool;

/**
 * Rewrites driver code: before each call into the DMA API it announces the call site's number
 * ({@code DmaHooks.site(n)}), and before each {@code ByteBuffer.allocateDirect} or
 * {@code Unsafe.allocateMemory} it reports that the driver takes memory that is not DMA memory; in
 * debug, each handler that can catch a {@code DmaMappingException} tells the agent what it caught, and
 * each {@code throw} what it throws (both only on exception paths). Nothing else of the method changes,
 * so it is safe for retransformation.
 */
final class CallSiteVisitor implements AsmVisitorWrapper.ForDeclaredMethods.MethodVisitorWrapper {
    private static final String HOOKS = "io/dmadirect/agent/bootstrap/DmaHooks";
    private static final Set<String> API_TYPES = Set.of("io/dmadirect/DmaDevice", "io/dmadirect/DmaBuffer",
            "io/dmadirect/DmaMapping", "io/dmadirect/DmaPlatform", "io/dmadirect/ScatterList", "io/dmadirect/DmaPool",
            "io/dmadirect/DmaPool$Block");
    private static final Set<String> API_METHODS = Set.of("allocCoherent", "freeCoherent", "close", "map", "mapSg",
            "unmap", "syncForCpu", "syncForDevice", "mapSingle", "unmapSingle", "syncSingleForCpu",
            "syncSingleForDevice", "unmapSg", "syncSgForCpu", "syncSgForDevice", "mapResource", "unmapResource", "alloc", "zalloc", "free", "allocBlock", "createPool",
            "allocPages", "allocNoncontiguous", "allocNoncoherent", "freePages", "freeNoncontiguous", "freeNoncoherent",
            "zallocBlock");
    private static final Set<String> UNSAFE = Set.of("sun/misc/Unsafe", "jdk/internal/misc/Unsafe");

    /** Catch types that can catch a {@code DmaMappingException}; {@code finally} blocks (no type) are not handlers of it. */
    private static final Set<String> MAP_ERROR_CATCHERS = Set.of("io/dmadirect/DmaMappingException",
            "io/dmadirect/DmaException", "java/lang/RuntimeException", "java/lang/Exception", "java/lang/Throwable");

    private final boolean flagNonDmaMemory;
    private final boolean watchMapErrors;

    /**
     * @param flagNonDmaMemory whether to report {@code allocateDirect} and {@code allocateMemory} (debug with packages=)
     * @param watchMapErrors   whether to tell the agent where driver code catches and throws, for the check of
     *                         unchecked map errors (debug)
     */
    CallSiteVisitor(boolean flagNonDmaMemory, boolean watchMapErrors) {
        this.flagNonDmaMemory = flagNonDmaMemory;
        this.watchMapErrors = watchMapErrors;
    }

    @Override
    public MethodVisitor wrap(TypeDescription type, MethodDescription method, MethodVisitor visitor,
            Implementation.Context context, TypePool pool, int writerFlags, int readerFlags) {
        String name = method.isConstructor() ? "<init>" : method.isTypeInitializer() ? "<clinit>" : method.getName();
        return new Rewriter(visitor, type.getName(), name);
    }

    /**
     * Rewrites one method. Which handlers are "empty" is judged from the bytecode, conservatively: a handler
     * that only stores the exception and then goes (falls through or jumps forward) to where its try statement
     * ends, from where the method goes straight (no branch, loop or throw) to a DMA-API call or a return. That
     * is {@code catch (DmaMappingException e) {}} followed by a use of what the map did not give, or by the
     * method's end as if the transfer were queued. A handler that
     * breaks, continues, returns, retries or does anything else is real handling; an empty handler at the end
     * of a loop body is bytecode-identical to {@code continue} (javac retargets the jump), so it is not judged
     * either: no finding where a correct program could have produced the same code.
     */
    private final class Rewriter extends MethodVisitor {
        private final String className;
        private final String methodName;
        private int line;
        private final Set<Label> handlers = new java.util.HashSet<>();
        /** Labels visited so far: a jump to one of them goes backwards (a loop). */
        private final Set<Label> visited = new java.util.HashSet<>();
        /** Per handler label, where its try statement ends: the target of the try body's closing GOTO. */
        private final java.util.Map<Label, Label> tryExits = new java.util.HashMap<>();
        /** The target of the previous instruction when it was a GOTO, else null. */
        private Label lastGoto;
        /** The try statement's end of the handler being entered, until its exception is stored. */
        private Label enteringExit;
        private boolean inHandler;
        /** The catch site just emitted, until the next instruction tells whether the handler is empty. */
        private int handlerSite;
        private Label handlerExit;
        /** Empty-looking handlers that jumped forward to their try statement's end, by that label. */
        private final java.util.Map<Label, java.util.List<Integer>> pendingAt = new java.util.HashMap<>();
        /** Empty-looking handlers whose try statement's end is running: marked empty at a DMA call before a branch. */
        private final java.util.List<Integer> scanning = new java.util.ArrayList<>();

        Rewriter(MethodVisitor visitor, String className, String methodName) {
            super(Opcodes.ASM9, visitor);
            this.className = className;
            this.methodName = methodName;
        }

        @Override
        public void visitLineNumber(int number, Label start) {
            line = number;
            super.visitLineNumber(number, start);
        }

        @Override
        public void visitTryCatchBlock(Label start, Label end, Label handler, String type) {
            if (watchMapErrors && type != null && MAP_ERROR_CATCHERS.contains(type)) {
                handlers.add(handler);
            }
            super.visitTryCatchBlock(start, end, handler, type);
        }

        @Override
        public void visitLabel(Label label) {
            super.visitLabel(label);
            visited.add(label);
            if (handlerSite != 0 && label == handlerExit) {
                scanning.add(handlerSite); // fell through from the handler into the code after the try statement
                handlerSite = 0;
            }
            java.util.List<Integer> arriving = pendingAt.remove(label);
            if (arriving != null) {
                scanning.addAll(arriving);
            }
            if (handlers.contains(label)) {
                inHandler = true;
                enteringExit = lastGoto;
            }
            lastGoto = null;
        }

        /** A handler starts by storing the exception (javac): after the store, {@code DmaHooks.caught(e, site)}. */
        @Override
        public void visitVarInsn(int opcode, int var) {
            handlerSite = 0;
            lastGoto = null;
            super.visitVarInsn(opcode, var);
            if (inHandler) {
                inHandler = false;
                if (opcode == Opcodes.ASTORE) {
                    int site = CallSites.register(className, methodName, line, "catch");
                    super.visitVarInsn(Opcodes.ALOAD, var);
                    super.visitLdcInsn(site);
                    super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "caught", "(Ljava/lang/Throwable;I)V", false);
                    handlerSite = site;
                    handlerExit = enteringExit;
                }
            }
        }

        /** Any other instruction: the handler has begun (or ended) with something else. */
        private void other() {
            inHandler = false;
            handlerSite = 0;
            lastGoto = null;
        }

        @Override
        public void visitIincInsn(int var, int increment) {
            other();
            super.visitIincInsn(var, increment);
        }

        @Override
        public void visitIntInsn(int opcode, int operand) {
            other();
            super.visitIntInsn(opcode, operand);
        }

        @Override
        public void visitLdcInsn(Object value) {
            other();
            super.visitLdcInsn(value);
        }

        @Override
        public void visitInsn(int opcode) {
            other();
            if (opcode >= Opcodes.IRETURN && opcode <= Opcodes.RETURN) {
                markScanned(); // catch (E e) {} then straight on to return: as if the transfer were queued
            } else if (opcode == Opcodes.ATHROW) {
                scanning.clear();
            }
            if (watchMapErrors && opcode == Opcodes.ATHROW) {
                super.visitInsn(Opcodes.DUP);
                super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "throwing", "(Ljava/lang/Throwable;)V", false);
            }
            super.visitInsn(opcode);
        }

        @Override
        public void visitFieldInsn(int opcode, String owner, String name, String descriptor) {
            other();
            super.visitFieldInsn(opcode, owner, name, descriptor);
        }

        @Override
        public void visitTypeInsn(int opcode, String type) {
            other();
            super.visitTypeInsn(opcode, type);
        }

        @Override
        public void visitTableSwitchInsn(int min, int max, Label dflt, Label... labels) {
            other();
            scanning.clear();
            super.visitTableSwitchInsn(min, max, dflt, labels);
        }

        @Override
        public void visitLookupSwitchInsn(Label dflt, int[] keys, Label[] labels) {
            other();
            scanning.clear();
            super.visitLookupSwitchInsn(dflt, keys, labels);
        }

        @Override
        public void visitJumpInsn(int opcode, Label label) {
            int site = handlerSite;
            Label exit = handlerExit;
            other();
            scanning.clear();
            if (site != 0 && opcode == Opcodes.GOTO && label == exit && !visited.contains(label)) {
                pendingAt.computeIfAbsent(label, l -> new java.util.ArrayList<>()).add(site);
            }
            if (opcode == Opcodes.GOTO) {
                lastGoto = label;
            }
            super.visitJumpInsn(opcode, label);
        }

        @Override
        public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
            other();
            if (API_TYPES.contains(owner) && API_METHODS.contains(name)) {
                markScanned(); // catch (E e) {} then straight on to the DMA API: uses what the map did not give
            }
            if (API_TYPES.contains(owner) && API_METHODS.contains(name)) {
                String api = owner.substring(owner.lastIndexOf('/') + 1) + "." + name;
                super.visitLdcInsn(CallSites.register(className, methodName, line, api));
                super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "site", "(I)V", false);
            } else if (flagNonDmaMemory && (owner.equals("java/nio/ByteBuffer") && name.equals("allocateDirect")
                    || UNSAFE.contains(owner) && name.equals("allocateMemory"))) {
                String api = owner.substring(owner.lastIndexOf('/') + 1) + "." + name;
                super.visitLdcInsn(CallSites.register(className, methodName, line, api));
                super.visitLdcInsn(api);
                super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "nonDmaAllocation", "(ILjava/lang/String;)V", false);
            }
            super.visitMethodInsn(opcode, owner, name, descriptor, isInterface);
        }

        private void markScanned() {
            for (int swallowed : scanning) {
                CallSites.markEmptyHandler(swallowed);
            }
            scanning.clear();
        }

        @Override
        public void visitInvokeDynamicInsn(String name, String descriptor, net.bytebuddy.jar.asm.Handle bootstrap,
                Object... arguments) {
            other();
            super.visitInvokeDynamicInsn(name, descriptor, bootstrap, arguments);
        }

        @Override
        public void visitMultiANewArrayInsn(String descriptor, int dimensions) {
            other();
            super.visitMultiANewArrayInsn(descriptor, dimensions);
        }

        @Override
        public void visitMaxs(int maxStack, int maxLocals) {
            super.visitMaxs(maxStack + 2, maxLocals);
        }
    }
}
