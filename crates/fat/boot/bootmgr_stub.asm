; A stand-in for Windows' BOOTMGR in the BIOS boot test: its first bytes jump 128 KiB into
; the file (so the loader must have read every cluster up to there, following the FAT),
; where code writes "SPINDLE-BOOTMGR-OK DL=xx" (the drive number the loader passed) to COM1
; and halts. Assembled with: nasm -f bin -o bootmgr_stub.bin bootmgr_stub.asm
bits 16
org 0
    jmp 0x4000:0x0000           ; 2000:0000 + 128 KiB
times 0x20000 - ($ - $$) db 0
far_code:
    mov bl, dl
    push cs
    pop ds
    mov si, msg - far_code
    call puts
    mov al, bl
    shr al, 4
    call hex
    mov al, bl
    and al, 15
    call hex
    mov si, eol - far_code
    call puts
.halt:
    cli
    hlt
    jmp .halt
hex:
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 7
.out:
    mov dx, 0x3F8
    out dx, al
    ret
puts:
    lodsb
    test al, al
    jz .done
    mov dx, 0x3F8
    out dx, al
    jmp puts
.done:
    ret
msg: db "SPINDLE-BOOTMGR-OK DL=", 0
eol: db 13, 10, 0
times 0x21000 - ($ - $$) db 0x90
