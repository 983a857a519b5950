package io.dmadirect.hil;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * A device node handed to a group with mode 0660, as dmadirect's udev rules do, remembering its owner group
 * and mode so that {@link #restore()} puts them back.
 */
final class NodeAccess {
    private final Path node;
    private final GroupPrincipal oldGroup;
    private final Set<PosixFilePermission> oldMode;

    private NodeAccess(Path node, GroupPrincipal oldGroup, Set<PosixFilePermission> oldMode) {
        this.node = node;
        this.oldGroup = oldGroup;
        this.oldMode = oldMode;
    }

    static NodeAccess giveTo(Path node, String group) throws IOException {
        PosixFileAttributeView view = view(node);
        NodeAccess access = new NodeAccess(node, view.readAttributes().group(), view.readAttributes().permissions());
        view.setGroup(node.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group));
        view.setPermissions(PosixFilePermissions.fromString("rw-rw----"));
        return access;
    }

    void restore() throws IOException {
        PosixFileAttributeView view = view(node);
        view.setGroup(oldGroup);
        view.setPermissions(oldMode);
    }

    private static PosixFileAttributeView view(Path node) {
        return Files.getFileAttributeView(node, PosixFileAttributeView.class);
    }

    @Override
    public String toString() {
        return node + " (was " + oldGroup.getName() + " " + PosixFilePermissions.toString(oldMode) + ")";
    }
}
