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
            "io/dmadirect/DmaMapping", "io/dmadirect/DmaPlatform", "io/dmadirect/ScatterList");
    private static final Set<String> API_METHODS = Set.of("allocCoherent", "freeCoherent", "close", "map", "mapSg",
            "unmap", "syncForCpu", "syncForDevice");
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

    private final class Rewriter extends MethodVisitor {
        private final String className;
        private final String methodName;
        private int line;
        private final Set<Label> handlers = new java.util.HashSet<>();
        /** Labels that a jump seen so far goes to: the end of a try statement is one. */
        private final Set<Label> jumpTargets = new java.util.HashSet<>();
        private boolean inHandler;
        /** The catch site just emitted, until the next instruction tells whether the handler is empty. */
        private int handlerSite;

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
            if (handlerSite != 0 && jumpTargets.contains(label)) {
                // The handler stored the exception and fell through to where the try statement ends.
                CallSites.markEmptyHandler(handlerSite);
                handlerSite = 0;
            }
            if (handlers.contains(label)) {
                inHandler = true;
            }
        }

        /** A handler starts by storing the exception (javac): after the store, {@code DmaHooks.caught(e, site)}. */
        @Override
        public void visitVarInsn(int opcode, int var) {
            handlerSite = 0;
            super.visitVarInsn(opcode, var);
            if (inHandler) {
                inHandler = false;
                if (opcode == Opcodes.ASTORE) {
                    int site = CallSites.register(className, methodName, line, "catch");
                    super.visitVarInsn(Opcodes.ALOAD, var);
                    super.visitLdcInsn(site);
                    super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "caught", "(Ljava/lang/Throwable;I)V", false);
                    handlerSite = site;
                }
            }
        }

        /** Any other instruction: the handler has begun (or ended) with something else. */
        private void other() {
            inHandler = false;
            handlerSite = 0;
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
            inHandler = false;
            if (handlerSite != 0 && opcode >= Opcodes.IRETURN && opcode <= Opcodes.RETURN) {
                CallSites.markEmptyHandler(handlerSite);
            }
            handlerSite = 0;
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
        public void visitJumpInsn(int opcode, Label label) {
            inHandler = false;
            if (watchMapErrors) {
                jumpTargets.add(label);
            }
            if (handlerSite != 0 && opcode == Opcodes.GOTO) {
                CallSites.markEmptyHandler(handlerSite);
            }
            handlerSite = 0;
            super.visitJumpInsn(opcode, label);
        }

        @Override
        public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
            other();
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

        @Override
        public void visitMaxs(int maxStack, int maxLocals) {
            super.visitMaxs(maxStack + 2, maxLocals);
        }
    }
}
